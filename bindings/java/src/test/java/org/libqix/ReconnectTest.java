package org.libqix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Reconnect and resume (docs/reconnect.md) through the Java binding. */
class ReconnectTest {
  /** Region x Sum(Sales), every row in the initial data page. */
  private static final String REGION_CUBE = "{\"qInfo\":{\"qType\":\"table\"},"
      + "\"qHyperCubeDef\":{\"qDimensions\":[{\"qDef\":{\"qFieldDefs\":[\"Region\"]}}],"
      + "\"qMeasures\":[{\"qDef\":{\"qDef\":\"Sum(Sales)\"}}],"
      + "\"qInitialDataFetch\":[{\"qTop\":0,\"qLeft\":0,\"qWidth\":2,\"qHeight\":50}]}}";

  /** One state change as the listener saw it. */
  private static final class Change {
    final SessionState state;
    final int closeCode;
    final String reason;

    Change(SessionState state, int closeCode, String reason) {
      this.state = state;
      this.closeCode = closeCode;
      this.reason = reason;
    }

    @Override
    public String toString() {
      return state + " " + closeCode + " '" + reason + "'";
    }
  }

  @Test
  void resumesAfterTheEngineClosesWith4003AndTheSameObjectAnswersAgain() throws Exception {
    // The engine closes every connection (the reconnected ones too) with 4003 "engine terminating" about
    // 700 ms after it connects: a resumable drop, so each window ends in SUSPENDED, then RESUMED.
    try (Simulator sim = new Simulator("--close-code", "4003", "--close-after-ms", "700");
        Session session = Session.open(
            sim.demo().set("reconnect", "resume").set("reconnect.initial_delay_ms", 50), Fixtures.PATIENCE)) {
      List<Change> states = new ArrayList<>(); // guarded by itself
      Semaphore resumed = new Semaphore(0);
      CountDownLatch closed = new CountDownLatch(1);
      session.addStateListener((s, state, closeCode, reason) -> {
        synchronized (states) {
          states.add(new Change(state, closeCode, reason));
        }
        if (state == SessionState.RESUMED) {
          resumed.release();
        } else if (state == SessionState.CLOSED) {
          closed.countDown();
        }
      });

      // Inside the first window (a call in flight at a drop fails with CONNECTION_LOST: then it is
      // repeated; one made while suspended waits for the resume).
      QixObject doc = retrying(() -> session.openDocAsync("demo")).object();
      QixObject cube = retrying(() -> doc.callForObjectAsync("CreateSessionObject", "[" + REGION_CUBE + "]"));
      String first = retrying(cube::getLayoutAsync);
      assertTrue(first.contains("\"qText\":\"Nordic\""), first);

      // The drop: SUSPENDED with 4003, then RESUMED. Then the same QixObject answers GetLayout and the
      // session is CONNECTED. A GetLayout that races with the next drop (~700 ms after each reconnect)
      // fails with CONNECTION_LOST, or the state is already SUSPENDED again: once more after the next RESUMED.
      boolean done = false;
      QixException lastRace = null;
      for (int attempt = 0; attempt < 5 && !done; attempt++) {
        assertTrue(resumed.tryAcquire(Fixtures.PATIENCE.toMillis(), TimeUnit.MILLISECONDS),
            () -> "no RESUMED in time: " + snapshot(states));
        try {
          String again = cube.getLayoutAsync().get(10, TimeUnit.SECONDS);
          assertEquals(matrix(first), matrix(again)); // the same data (a re-created object may get a new qId)
          SessionState now = session.state();
          if (now == SessionState.CONNECTED) {
            done = true;
          } else {
            assertEquals(SessionState.SUSPENDED, now); // the next drop came first: again
          }
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof QixException)
              || ((QixException) e.getCause()).code() != QixException.Code.CONNECTION_LOST) {
            throw e;
          }
          lastRace = (QixException) e.getCause();
        }
      }
      QixException race = lastRace;
      assertTrue(done, () -> "no GetLayout after a resume while CONNECTED; last race: " + race);

      List<Change> seen = snapshot(states);
      int suspended = -1;
      for (int i = 0; i < seen.size() && suspended < 0; i++) {
        if (seen.get(i).state == SessionState.SUSPENDED) {
          suspended = i;
        }
      }
      assertTrue(suspended >= 0, () -> "no SUSPENDED: " + seen);
      assertEquals(4003, seen.get(suspended).closeCode, seen::toString);
      assertEquals(SessionState.RESUMED, seen.get(suspended + 1).state, seen::toString);
      assertFalse(seen.stream().anyMatch(c -> c.state == SessionState.CLOSED), seen::toString);
      assertFalse(cube.isClosed());

      cube.close();
      doc.close();
      assertEquals(1, closed.getCount(), "never CLOSED before close()");
      session.close(); // removes the listeners too: no CLOSED reaches them
      assertEquals(SessionState.CLOSED, session.state());
    }
  }

  /** The qMatrix of a hypercube layout's first data page, as text. */
  private static String matrix(String layout) {
    int from = layout.indexOf("\"qMatrix\"");
    assertTrue(from >= 0, layout);
    int to = layout.indexOf("]]", from);
    assertTrue(to > from, layout);
    return layout.substring(from, to);
  }

  private static List<Change> snapshot(List<Change> states) {
    synchronized (states) {
      return new ArrayList<>(states);
    }
  }

  /** Runs {@code call} again when it failed with CONNECTION_LOST (it was in flight at a drop). */
  private static <T> T retrying(Callable<CompletableFuture<T>> call) throws Exception {
    for (int attempt = 1; ; attempt++) {
      try {
        return call.call().get(10, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        if (attempt >= 5 || !(e.getCause() instanceof QixException)
            || ((QixException) e.getCause()).code() != QixException.Code.CONNECTION_LOST) {
          throw e;
        }
      }
    }
  }
}
