package org.libqix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** 10,000 calls from 8 threads on one session: every answer reaches its own caller. */
class ConcurrencyTest {
  private static final int THREADS = 8;
  private static final int CALLS_PER_THREAD = 1250;

  @Test
  void tenThousandCallsFromEightThreads() throws Exception {
    try (Simulator sim = new Simulator();
        Session session = Session.open(sim.demo())) {
      QixObject doc = session.openDoc("demo").object();
      QixObject global = session.global().object();
      ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
      AtomicInteger answered = new AtomicInteger();
      CountDownLatch start = new CountDownLatch(1);
      List<Thread> threads = new ArrayList<>();
      for (int t = 0; t < THREADS; t++) {
        int thread = t;
        threads.add(new Thread(() -> {
          try {
            start.await();
            List<CompletableFuture<Void>> pending = new ArrayList<>();
            for (int i = 0; i < CALLS_PER_THREAD; i++) {
              int n = thread * CALLS_PER_THREAD + i;
              String expected = "\"" + (2 * n) + "\"";
              String params = "[\"" + n + "*2\"]";
              if (i % 5 == 4) {
                // Some blocking calls between the asynchronous ones.
                String r = doc.call("Evaluate", params);
                if (!r.equals(expected)) {
                  failures.add(n + ": " + r);
                }
                answered.incrementAndGet();
              } else if (i % 50 == 1) {
                pending.add(global.callAsync("EngineVersion", "[]").thenAccept(r -> {
                  if (!r.contains("qComponentVersion")) {
                    failures.add(n + ": " + r);
                  }
                  answered.incrementAndGet();
                }));
              } else {
                pending.add(doc.callAsync("Evaluate", params).thenAccept(r -> {
                  if (!r.equals(expected)) {
                    failures.add(n + ": " + r);
                  }
                  answered.incrementAndGet();
                }));
              }
            }
            CompletableFuture.allOf(pending.toArray(new CompletableFuture<?>[0])).get(120, TimeUnit.SECONDS);
          } catch (Throwable e) {
            failures.add("thread " + thread + ": " + e);
          }
        }, "caller-" + t));
      }
      threads.forEach(Thread::start);
      long begin = System.nanoTime();
      start.countDown();
      for (Thread t : threads) {
        t.join(TimeUnit.SECONDS.toMillis(180));
      }
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begin);
      System.out.println("10,000 calls from 8 threads: " + ms + " ms");
      assertTrue(failures.isEmpty(), () -> failures.size() + " failures, first: " + failures.peek());
      assertEquals(THREADS * CALLS_PER_THREAD, answered.get());
      assertEquals(0, session.pendingCalls());
    }
  }
}
