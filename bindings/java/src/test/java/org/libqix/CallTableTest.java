package org.libqix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/**
 * The calls in flight (CallTable): a token finds its call exactly once, a stale token finds nothing, and
 * through a session: pipelined typed calls issued from completions each complete once with their own
 * answer; errors, cancellation and a session's close still settle every call.
 */
class CallTableTest {
  private static final ResultDecoder<String> RAW = (raw, object) -> raw;

  @Test
  void aTokenFindsItsCallOnceAndAStaleTokenNothing() {
    int before = CallTable.size();
    CallFuture<String> a = new CallFuture<>(null, r -> "", null);
    long ta = CallTable.add(a);
    assertTrue(ta < 0, "call tokens are negative (listener tokens are positive)");
    assertEquals(before + 1, CallTable.size());
    assertSame(a, CallTable.take(ta));
    assertNull(CallTable.take(ta), "taken once only");
    // The slot is reused by the next call: the old token must not find the new call.
    CallFuture<String> b = new CallFuture<>(null, r -> "", null);
    long tb = CallTable.add(b);
    assertNotEquals(ta, tb);
    assertNull(CallTable.take(ta), "a stale token finds nothing");
    assertNull(CallTable.take(42), "a listener token is no call token");
    assertNull(CallTable.take(0));
    assertSame(b, CallTable.take(tb));
    assertEquals(before, CallTable.size());
  }

  @Test
  void manySlotsGrowAndAreAllFound() {
    int before = CallTable.size();
    int n = 5000;
    long[] tokens = new long[n];
    CallFuture<?>[] calls = new CallFuture<?>[n];
    for (int i = 0; i < n; i++) {
      calls[i] = new CallFuture<>(null, r -> "", null);
      tokens[i] = CallTable.add(calls[i]);
    }
    for (int i = n - 1; i >= 0; i--) {
      assertSame(calls[i], CallTable.take(tokens[i]));
    }
    assertEquals(before, CallTable.size());
  }

  @Test
  void pipelinedTypedCallsFromCompletionsEachCompleteOnceWithTheirAnswer() throws Exception {
    final int calls = 4000;
    final int window = 64;
    try (Simulator sim = new Simulator();
        Session session = Session.open(sim.demo())) {
      QixObject doc = session.openDoc("demo").object();
      int before = CallTable.size();
      AtomicInteger issued = new AtomicInteger();
      AtomicIntegerArray completions = new AtomicIntegerArray(calls);
      ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
      AtomicInteger done = new AtomicInteger();
      CountDownLatch finished = new CountDownLatch(1);
      Runnable[] next = new Runnable[1];
      next[0] = () -> {
        int n = issued.getAndIncrement();
        if (n >= calls) {
          return;
        }
        // Issued from a completion (on the event thread) for all but the first window.
        doc.callAsync("Evaluate", "[\"" + n + "*3\"]", CallOptions.DEFAULT, RAW).whenComplete((r, e) -> {
          if (completions.incrementAndGet(n) != 1) {
            failures.add(n + ": completed twice");
          }
          if (e != null) {
            failures.add(n + ": " + e);
          } else if (!r.contains("\"" + (3 * n) + "\"")) {
            failures.add(n + ": " + r);
          }
          if (done.incrementAndGet() == calls) {
            finished.countDown();
          } else {
            next[0].run();
          }
        });
      };
      for (int i = 0; i < window; i++) {
        next[0].run();
      }
      finished.await();
      assertTrue(failures.isEmpty(), failures.toString());
      for (int i = 0; i < calls; i++) {
        assertEquals(1, completions.get(i), "call " + i);
      }
      assertEquals(before, CallTable.size(), "no call left in the table");
    }
  }

  @Test
  void typedResultsAsciiOrNotArriveIntact() throws Exception {
    // A typed call's success crosses JNI as a Java string when it is plain ASCII, as UTF-8 bytes otherwise.
    try (Simulator sim = new Simulator();
        Session session = Session.open(sim.demo())) {
      QixObject doc = session.openDoc("demo").object();
      String text = "a\uD83D\uDE00\u00FC\u20AC"; // a, U+1F600 (outside the BMP), ü, €
      String wide = doc.callAsync("Evaluate", "[\"='" + text + "'\"]", CallOptions.DEFAULT, RAW).get();
      assertTrue(wide.contains("\"" + text + "\""), wide);
      String ascii = doc.callAsync("Evaluate", "[\"='plain' & 'text'\"]", CallOptions.DEFAULT, RAW).get();
      assertTrue(ascii.contains("\"plaintext\""), ascii);
      // Longer than one 8-byte step of the ASCII scan, with the wide character after the first steps.
      String late = "abcdefghijklmnopqrstuvwxyz\u00FC";
      String lateResult = doc.callAsync("Evaluate", "[\"='" + late + "'\"]", CallOptions.DEFAULT, RAW).get();
      assertTrue(lateResult.contains("\"" + late + "\""), lateResult);
    }
  }

  @Test
  void engineErrorsAndCancellationAreDelivered() throws Exception {
    try (Simulator holding = new Simulator(Fixtures.HOLDING_CALCULATIONS);
        Session session = Session.open(holding.demo())) {
      QixObject doc = session.openDoc("demo").object();
      int before = CallTable.size();
      // An engine error through the typed path.
      CompletableFuture<String> bad = doc.callAsync("NoSuchMethod", "[]", CallOptions.DEFAULT, RAW);
      ExecutionException x = assertThrows(ExecutionException.class, bad::get);
      assertTrue(x.getCause() instanceof QixException, String.valueOf(x.getCause()));
      // A call the engine holds, cancelled through the future: it completes cancelled, once, and leaves the table.
      CompletableFuture<String> held = doc.callAsync("Evaluate", "[\"1+1\"]", CallOptions.DEFAULT, RAW);
      assertTrue(held.cancel(true));
      assertTrue(held.isCancelled());
      // The cancelled call's answer (Request aborted) still comes and takes it out of the table; a later call
      // on the same session works.
      CompletableFuture<String> version = session.global().object().callAsync("EngineVersion", "[]",
          CallOptions.DEFAULT, RAW);
      assertTrue(version.get().contains("qComponentVersion"), version.get());
      // Held again, then the session closes: the call fails with CLOSED and the table is empty again.
      CompletableFuture<String> pending = doc.callAsync("Evaluate", "[\"2+2\"]", CallOptions.DEFAULT, RAW);
      session.close();
      ExecutionException closed = assertThrows(ExecutionException.class, pending::get);
      assertTrue(closed.getCause() instanceof QixException, String.valueOf(closed.getCause()));
      assertEquals(before, CallTable.size(), "every call left the table");
    }
  }

  @Test
  void takeAllTakesOnlyTheSessionsCalls() {
    int before = CallTable.size();
    CallFuture<String> mine = new CallFuture<>(null, r -> "", null);
    long t = CallTable.add(mine);
    List<CallFuture<?>> all = CallTable.takeAll(null);
    assertTrue(all.contains(mine));
    assertNull(CallTable.take(t), "taken by takeAll");
    assertEquals(before, CallTable.size());
  }
}
