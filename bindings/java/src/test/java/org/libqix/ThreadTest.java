package org.libqix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The event threads and the JVM: attached once as daemons, detached when their context closes; listeners
 * survive garbage collection; what listeners throw is reported, never fatal; no blocking on event threads.
 */
class ThreadTest {
  private static final long PATIENCE_MS = Fixtures.PATIENCE.toMillis();
  private static Simulator sim;

  @BeforeAll
  static void start() throws Exception {
    sim = new Simulator();
  }

  @AfterAll
  static void stop() throws Exception {
    sim.close();
  }

  @AfterEach
  void resetHandler() {
    Qix.setListenerExceptionHandler(null);
  }

  @Test
  void callbacksRunOnDaemonThreadsAttachedOnceAndDetachedWhenTheContextCloses() throws Exception {
    // One I/O thread and one event thread: every callback runs on one of the two (the I/O thread with
    // events.inline, the default; the event thread when the session's events queue up, and always without it).
    for (boolean inline : new boolean[] {true, false}) {
      Context context = new Context(1, 1);
      List<Thread> threads = new CopyOnWriteArrayList<>();
      try (Session session = context.open(sim.demo().set("events.inline", inline))) {
        QixObject doc = session.openDoc("demo").object();
        QixObject cube = doc.createSessionObject(Fixtures.CUBE);
        cube.getLayout();
        Semaphore changes = new Semaphore(0);
        cube.addChangeListener(o -> {
          threads.add(Thread.currentThread());
          changes.release();
        });
        CountDownLatch layout = new CountDownLatch(1);
        cube.watch((o, l) -> {
          if (layout.getCount() > 0) {
            threads.add(Thread.currentThread());
            layout.countDown();
          }
        });
        assertTrue(layout.await(10, TimeUnit.SECONDS));
        cube.unwatch();
        QixObject field = doc.getField("Category");
        for (int i = 0; i < 20; i++) {
          field.call("Select", i % 2 == 0 ? "[\"Bikes\"]" : "[\"Clothing\"]");
          assertTrue(changes.tryAcquire(PATIENCE_MS, TimeUnit.MILLISECONDS), "Changed after selection " + i);
          cube.getLayout();
        }
      }
      assertEquals(21, threads.size());
      // The same java.lang.Thread objects every time: attached once, not attached and detached per callback.
      Set<Thread> distinct = Collections.newSetFromMap(new IdentityHashMap<>());
      distinct.addAll(threads);
      assertTrue(distinct.size() <= (inline ? 2 : 1), distinct.size() + " threads, inline " + inline);
      for (Thread t : distinct) {
        assertTrue(t.isDaemon(), "attached as a daemon: never keeps the JVM alive");
        assertNotEquals(Thread.currentThread(), t);
        assertTrue(t.getName().startsWith("libqix-events-"), t.getName());
        assertTrue(t.isAlive());
      }
      context.close();
      // Their native threads end and detach from the JVM (a session's last references may go after close()).
      for (Thread t : distinct) {
        t.join(PATIENCE_MS);
        assertFalse(t.isAlive(), "detached after the context closed");
      }
    }
  }

  private static void assertNotEquals(Thread a, Thread b) {
    assertFalse(a == b, "the callback ran on the caller's thread");
  }

  @Test
  void listenersSurviveGarbageCollection() throws Exception {
    try (Session session = Session.open(sim.demo())) {
      QixObject doc = session.openDoc("demo").object();
      QixObject cube = doc.createSessionObject(Fixtures.CUBE);
      cube.getLayout();
      CountDownLatch changed = new CountDownLatch(1);
      BlockingQueue<String> layouts = new ArrayBlockingQueue<>(8);
      // Nothing but the object holds these listeners.
      ChangeListener listener = o -> changed.countDown();
      ReferenceQueue<ChangeListener> collected = new ReferenceQueue<>();
      WeakReference<ChangeListener> weak = new WeakReference<>(listener, collected);
      cube.addChangeListener(listener);
      listener = null;
      cube.watch((o, layout) -> layouts.add(layout));
      assertNotNull(layouts.poll(PATIENCE_MS, TimeUnit.MILLISECONDS), "the watch delivers the current layout");

      // A weak reference is cleared by the collection itself: right after System.gc() it tells.
      for (int i = 0; i < 3; i++) {
        System.gc();
      }
      assertNotNull(weak.get(), "the registered listener is still reachable");

      doc.getField("Category").call("Select", "[\"Bikes\"]");
      assertTrue(changed.await(10, TimeUnit.SECONDS), "the listener was called after the GC");
      assertNotNull(layouts.poll(10, TimeUnit.SECONDS), "the watch was called after the GC");

      // Once the object is closed, nothing keeps the listener any more.
      int before = Dispatch.registrations();
      cube.close();
      assertTrue(Dispatch.registrations() < before);
      assertTrue(Fixtures.collected(weak, collected), "a closed object's listener can be collected");
    }
  }

  @Test
  void pendingCallsSurviveGarbageCollection() throws Exception {
    // The engine holds Evaluate until a CancelRequest names it: the call is pending for as long as the test
    // wants, and then answered (error 15, "Request aborted") through the binding's completion.
    try (Simulator holding = new Simulator(Fixtures.HOLDING_CALCULATIONS);
        Session session = Session.open(holding.demo())) {
      QixObject doc = session.openDoc("demo").object();
      BlockingQueue<String> results = new ArrayBlockingQueue<>(8);
      // The caller keeps nothing: neither the future nor its dependent stage.
      CompletableFuture<String> future = doc.callAsync("Evaluate", "[\"1+1\"]");
      long id = ((CallFuture<String>) future).requestId();
      WeakReference<CompletableFuture<String>> weak = new WeakReference<>(future);
      future.whenComplete((r, e) -> results.add(e == null ? r : "failed: " + e.getMessage()));
      future = null;
      for (int i = 0; i < 3; i++) {
        System.gc();
      }
      assertNotNull(weak.get(), "a pending call's future is kept by the binding");
      assertTrue(results.isEmpty(), "still pending");
      session.call("CancelRequest", "[" + id + "]");
      String r = results.poll(PATIENCE_MS, TimeUnit.MILLISECONDS);
      assertNotNull(r, "the completion ran after the GC");
      assertTrue(r.contains("Request aborted"), r);
    }
  }

  @Test
  void listenerExceptionsAreReportedAndNeverFatal() throws Exception {
    Fixtures.Recorder<String> reports = new Fixtures.Recorder<>();
    Qix.setListenerExceptionHandler((where, error) -> reports.add(where + ": " + error.getMessage()));
    try (Session session = Session.open(sim.demo())) {
      QixObject doc = session.openDoc("demo").object();
      QixObject cube = doc.createSessionObject(Fixtures.CUBE);
      cube.getLayout();
      Semaphore calls = new Semaphore(0);
      cube.addChangeListener(o -> {
        calls.release();
        throw new IllegalStateException("boom from a listener");
      });
      cube.watch((o, layout) -> {
        throw new Error("boom from a watch");
      });
      session.addNotificationListener((s, m, p) -> {
        throw new RuntimeException("boom from a notification listener");
      });
      QixObject field = doc.getField("Category");
      field.call("Select", "[\"Bikes\"]");
      assertTrue(calls.tryAcquire(PATIENCE_MS, TimeUnit.MILLISECONDS), "Changed after the first selection");
      cube.getLayout();
      field.call("Select", "[\"Clothing\"]");
      // Event delivery goes on after a listener threw.
      assertTrue(calls.tryAcquire(PATIENCE_MS, TimeUnit.MILLISECONDS), "Changed after the second selection");
      assertTrue(reports.awaitCount(1, r -> r.startsWith("ChangeListener.onChanged: boom")), reports.snapshot()::toString);
      assertTrue(reports.awaitCount(1, r -> r.startsWith("LayoutListener.onLayout: boom")), reports.snapshot()::toString);
      assertTrue(reports.awaitCount(1, r -> r.startsWith("NotificationListener.onNotification: boom")),
          reports.snapshot()::toString);
      // A handler that throws itself is contained too.
      Qix.setListenerExceptionHandler((where, error) -> {
        throw new IllegalStateException("the handler fails");
      });
      cube.getLayout();
      field.call("Select", "[\"Bikes\"]");
      assertTrue(calls.tryAcquire(PATIENCE_MS, TimeUnit.MILLISECONDS), "Changed after the third selection");
      // The session still works.
      assertEquals("\"2\"", doc.call("Evaluate", "[\"1+1\"]"));
    }
  }

  @Test
  void blockingInACallbackHandsItsSessionOverFirst() throws Exception {
    try (Session session = Session.open(sim.demo()); Session other = Session.open(sim.demo())) {
      QixObject doc = session.openDoc("demo").object();
      QixObject cube = doc.createSessionObject(Fixtures.CUBE);
      cube.getLayout();
      AtomicReference<Object> stage = new AtomicReference<>();
      AtomicReference<Object> blockingCall = new AtomicReference<>();
      AtomicReference<Object> join = new AtomicReference<>();
      AtomicReference<Object> otherSession = new AtomicReference<>();
      AtomicReference<Throwable> closeContext = new AtomicReference<>();
      AtomicReference<CompletableFuture<String>> staged = new AtomicReference<>();
      CountDownLatch done = new CountDownLatch(1);
      Context own = new Context(1, 1);
      cube.addChangeListener(o -> {
        // Attached before anything here blocks: the answer waits for this listener (the session's events
        // come one at a time), so the stage runs where the answer is delivered, on a libqix thread, and
        // blocks there (the path of a call completion).
        staged.set(doc.callAsync("Evaluate", "[\"1+1\"]").thenApply(v -> {
          stage.set(Thread.currentThread().getName());
          return doc.call("Evaluate", "[\"5+5\"]");
        }));
        blockingCall.set(outcome(() -> doc.call("Evaluate", "[\"2+2\"]")));
        join.set(outcome(() -> doc.callAsync("Evaluate", "[\"3+3\"]").join()));
        otherSession.set(outcome(() -> other.call("EngineVersion", "[]")));
        try {
          own.close();
        } catch (Throwable t) {
          closeContext.set(t);
        }
        done.countDown();
      });
      doc.getField("Category").call("Select", "[\"Bikes\"]");
      assertTrue(done.await(PATIENCE_MS, TimeUnit.MILLISECONDS));
      assertEquals("\"4\"", blockingCall.get());
      assertEquals("\"6\"", join.get());
      String version = String.valueOf(otherSession.get());
      assertTrue(version.contains("qComponentVersion"), version);
      assertEquals("\"10\"", staged.get().get(PATIENCE_MS, TimeUnit.MILLISECONDS));
      assertTrue(String.valueOf(stage.get()).startsWith("libqix-"), String.valueOf(stage.get()));
      // Closing a context is never possible in a callback.
      assertEquals(QixException.Code.BUSY, ((QixException) closeContext.get()).code());
      assertFalse(own.isClosed());
      own.close();
      assertTrue(own.isClosed());
      // The session's events flow on afterwards, one at a time again.
      assertEquals("\"7\"", doc.call("Evaluate", "[\"3+4\"]"));
    }
  }

  @Test
  void blockingInATrafficListenerIsBusy() throws Exception {
    AtomicReference<QixObject> target = new AtomicReference<>();
    AtomicReference<Object> fromListener = new AtomicReference<>();
    CountDownLatch tried = new CountDownLatch(1);
    SessionOptions options = sim.demo().trafficListener((sent, frame) -> {
      QixObject d = target.get();
      if (d != null && !sent && tried.getCount() > 0) {
        fromListener.set(outcome(() -> d.call("Evaluate", "[\"1+1\"]")));
        tried.countDown();
      }
    });
    try (Session session = Session.open(options)) {
      QixObject doc = session.openDoc("demo").object();
      target.set(doc);
      assertEquals("\"2\"", doc.call("Evaluate", "[\"1+1\"]")); // its answer's frame reaches the listener
      assertTrue(tried.await(PATIENCE_MS, TimeUnit.MILLISECONDS));
      Object o = fromListener.get();
      assertTrue(o instanceof QixException, String.valueOf(o));
      assertEquals(QixException.Code.BUSY, ((QixException) o).code());
    }
  }

  /** What {@code call} returns, or what it throws. */
  private static Object outcome(java.util.concurrent.Callable<Object> call) {
    try {
      return call.call();
    } catch (Throwable t) {
      return t;
    }
  }

  @Test
  void closingTheSessionFromItsOwnListener() throws Exception {
    Session session = Session.open(sim.demo());
    CountDownLatch closed = new CountDownLatch(1);
    // Notifications already received are replayed to a new listener, on the event thread.
    session.addNotificationListener((s, method, params) -> {
      s.close();
      closed.countDown();
    });
    assertTrue(closed.await(10, TimeUnit.SECONDS));
    assertEquals(SessionState.CLOSED, session.state());
  }
}
