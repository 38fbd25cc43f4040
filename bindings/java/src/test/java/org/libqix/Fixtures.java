package org.libqix;

import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** What the tests share: the hypercube definition, the simulator's holding mode, and waits for events. */
final class Fixtures {
  private Fixtures() {}

  /** Category x Sum(Sales), every row in the initial data page. */
  static final String CUBE = "{\"qInfo\":{\"qId\":\"cube\",\"qType\":\"table\"},"
      + "\"qHyperCubeDef\":{\"qDimensions\":[{\"qDef\":{\"qFieldDefs\":[\"Category\"]}}],"
      + "\"qMeasures\":[{\"qDef\":{\"qDef\":\"Sum(Sales)\"}}],"
      + "\"qInitialDataFetch\":[{\"qTop\":0,\"qLeft\":0,\"qWidth\":2,\"qHeight\":20}]}}";

  /**
   * How long a test waits for an event that should come before it fails (a hang guard, never a performance
   * bound: nothing asserts that an event came sooner than this).
   */
  static final Duration PATIENCE = Duration.ofSeconds(20);

  /**
   * Simulator flags: layouts, data pages and expressions are answered only after an hour, so such calls stay
   * pending until the test ends them (a cancel, a close, a kill, or a CancelRequest naming them, which the
   * simulator answers at once with error 15 "Request aborted"). Other calls are not delayed.
   */
  static final String[] HOLDING_CALCULATIONS = {"--calc-delay-ms", "3600000"};

  /**
   * Items added from any thread (frames, reports, events), and waits for a condition over them that are woken
   * by each addition, never by a clock.
   */
  static class Recorder<T> {
    private final List<T> items = new ArrayList<>(); // guarded by this

    synchronized void add(T item) {
      items.add(item);
      notifyAll();
    }

    synchronized void clear() {
      items.clear();
    }

    synchronized List<T> snapshot() {
      return new ArrayList<>(items);
    }

    /** Waits until {@code condition} holds over the items; false when it still does not after {@link #PATIENCE}. */
    synchronized boolean await(Predicate<List<T>> condition) throws InterruptedException {
      long end = System.nanoTime() + PATIENCE.toNanos();
      while (!condition.test(items)) {
        long left = end - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        TimeUnit.NANOSECONDS.timedWait(this, left);
      }
      return true;
    }

    /** Waits until at least {@code n} items match. */
    boolean awaitCount(int n, Predicate<T> match) throws InterruptedException {
      return await(list -> list.stream().filter(match).count() >= n);
    }
  }

  /** A traffic listener that records the frames sent to the engine. */
  static final class SentFrames extends Recorder<String> implements TrafficListener {
    @Override
    public void onFrame(boolean sent, String frame) {
      if (sent) {
        add(frame);
      }
    }
  }

  /**
   * Returns once every callback caused by a frame that arrived before now has run: one session's callbacks
   * run one at a time in the order their frames arrived, and the answer to a call made now arrives after
   * those frames, so the completion of the call's future (a callback too) runs after theirs.
   */
  static void drainEvents(Session session) throws Exception {
    session.callAsync("EngineVersion", "[]").get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * Asks for garbage collections until {@code ref} is enqueued on {@code queue}, the collector's own signal
   * that its referent was collected. The collector can only be asked: each round is a full collection, then
   * a wait on the queue; false when it did not come within {@link #PATIENCE}.
   */
  static boolean collected(Reference<?> ref, ReferenceQueue<?> queue) throws InterruptedException {
    long end = System.nanoTime() + PATIENCE.toNanos();
    while (System.nanoTime() < end) {
      System.gc();
      Reference<?> r = queue.remove(1000);
      if (r == ref) {
        return true;
      }
    }
    return false;
  }

  /** Number of occurrences of {@code needle} in {@code text}. */
  static int count(String text, String needle) {
    int n = 0;
    for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length())) {
      n++;
    }
    return n;
  }
}
