package org.libqix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The shared binding scenarios against the simulator over a real socket: connect, open app, create a
 * hypercube, select, Changed, refreshed layout, watch, delta on and off, cancel, UTF-8.
 */
class ScenarioTest {
  private static Simulator sim;

  @BeforeAll
  static void start() throws Exception {
    sim = new Simulator();
  }

  @AfterAll
  static void stop() throws Exception {
    sim.close();
  }

  @Test
  void connectOpenCreateSelectChangedAndRefreshedLayout() throws Exception {
    try (Session session = Session.open(sim.demo(), Duration.ofSeconds(10))) {
      assertEquals(SessionState.CONNECTED, session.state());
      assertTrue(session.call("EngineVersion", "[]").contains("qComponentVersion"));

      QixObject doc = session.openDoc("demo").object();
      assertEquals("Doc", doc.type());
      assertEquals("demo", doc.genericId());

      QixObject cube = doc.createSessionObject(Fixtures.CUBE);
      assertEquals("GenericObject", cube.type());
      assertEquals("cube", cube.genericId());
      assertEquals("table", cube.genericType());
      assertFalse(cube.layout().isPresent(), "no layout fetched yet");

      String before = cube.getLayout();
      assertTrue(before.contains("\"qText\":\"Bikes\""), before);
      assertTrue(before.contains("\"qText\":\"Clothing\""), before);
      assertTrue(cube.isValid());
      assertEquals(before, cube.layout().orElseThrow());

      CountDownLatch changed = new CountDownLatch(1);
      AtomicInteger changes = new AtomicInteger();
      cube.addChangeListener(o -> {
        assertEquals(cube, o);
        changes.incrementAndGet();
        changed.countDown();
      });

      try (QixObject category = doc.getField("Category")) {
        assertEquals("true", category.call("Select", "[\"Bikes\"]"));
      }
      assertTrue(changed.await(10, TimeUnit.SECONDS), "Changed after the selection");
      assertFalse(cube.isValid());

      String after = cube.getLayoutAsync().get(10, TimeUnit.SECONDS);
      assertTrue(after.contains("\"qText\":\"Bikes\""), after);
      assertFalse(after.contains("\"qText\":\"Clothing\""), "only the selected category is left: " + after);
      assertTrue(cube.isValid());
      // "changed" fires once per invalidation, not once per listener call or fetch: once the events of
      // every frame so far (the fetch's answer included) have been delivered, there was one.
      Fixtures.drainEvents(session);
      assertEquals(1, changes.get());

      session.close();
      assertEquals(SessionState.CLOSED, session.state());
      assertTrue(cube.isClosed());
      assertTrue(doc.isClosed());
    }
  }

  @Test
  void watchDeliversTheCurrentAndEachFreshLayout() throws Exception {
    try (Session session = Session.open(sim.demo())) {
      QixObject doc = session.openDoc("demo").object();
      QixObject cube = doc.createSessionObject(Fixtures.CUBE);
      BlockingQueue<String> layouts = new ArrayBlockingQueue<>(16);
      cube.watch((o, layout) -> layouts.add(layout));
      String first = layouts.poll(10, TimeUnit.SECONDS);
      assertNotNull(first, "the watch delivers the current layout");
      assertTrue(first.contains("Clothing"));

      doc.getField("Category").call("Select", "[\"Clothing\"]");
      String second = layouts.poll(10, TimeUnit.SECONDS);
      assertNotNull(second, "the watch delivers the layout after the change");
      assertTrue(second.contains("Clothing") && !second.contains("Bikes"), second);

      cube.unwatch();
      doc.getField("Category").call("Select", "[\"Bikes\"]");
      // A watch would have asked for the layout on the change, before the call below; its answer, and the
      // watch callback, would come before this call's completion.
      Fixtures.drainEvents(session);
      assertEquals(null, layouts.poll(), "no layouts after unwatch");
    }
  }

  @Test
  void deltaOnAndOff() throws Exception {
    // Frames reach the traffic listener on the event thread, after the call that sent them may have returned.
    Fixtures.SentFrames sent = new Fixtures.SentFrames();
    TrafficListener traffic = sent;
    // Delta on (the default): GetLayout asks for it; the results are whole layouts all the same.
    String withDelta;
    try (Session session = Session.open(sim.demo().trafficListener(traffic))) {
      QixObject cube = session.openDoc("demo").object().createSessionObject(Fixtures.CUBE);
      sent.clear();
      String a = cube.getLayout();
      String b = cube.getLayout();
      assertEquals(a, b, "the second, patched layout equals the first");
      assertTrue(sent.await(f -> countFrames(f, "GetLayout", "\"delta\":true") == 2), sent.snapshot()::toString);
      // Off for one call.
      sent.clear();
      String c = cube.call("GetLayout", "[]", CallOptions.DEFAULT.withDelta(false));
      assertEquals(a, c);
      assertTrue(sent.await(f -> countFrames(f, "GetLayout", "") == 1), sent.snapshot()::toString);
      assertEquals(0, countFrames(sent.snapshot(), "GetLayout", "\"delta\":true"), sent.snapshot()::toString);
      withDelta = a;
    }
    // Delta off for the session, on again for one call.
    sent.clear();
    try (Session session = Session.open(sim.demo().delta(false).trafficListener(traffic))) {
      QixObject cube = session.openDoc("demo").object().createSessionObject(Fixtures.CUBE);
      String a = cube.getLayout();
      assertEquals(withDelta, a);
      assertTrue(sent.await(f -> countFrames(f, "GetLayout", "") == 1), sent.snapshot()::toString);
      assertEquals(0, countFrames(sent.snapshot(), "GetLayout", "\"delta\":true"), sent.snapshot()::toString);
      String b = cube.callAsync("GetLayout", "[]", CallOptions.DEFAULT.withDelta(true)).get(10, TimeUnit.SECONDS);
      assertEquals(withDelta, b);
      assertTrue(sent.await(f -> countFrames(f, "GetLayout", "\"delta\":true") == 1), sent.snapshot()::toString);
    }
  }

  private static int countFrames(List<String> frames, String method, String mark) {
    int n = 0;
    for (String f : frames) {
      if (f.contains("\"method\":\"" + method + "\"") && f.contains(mark)) {
        n++;
      }
    }
    return n;
  }

  @Test
  void cancellingTheFutureCancelsTheCall() throws Exception {
    Fixtures.Recorder<String> received = new Fixtures.Recorder<>();
    Fixtures.SentFrames sent = new Fixtures.SentFrames();
    // The engine holds Evaluate: only a cancel ends the call, so a cancelled future proves it did not wait.
    try (Simulator holding = new Simulator(Fixtures.HOLDING_CALCULATIONS);
        Session session = Session.open(holding.demo().trafficListener((out, f) -> {
          if (out) {
            sent.add(f);
          } else {
            received.add(f);
          }
        }))) {
      QixObject doc = session.openDoc("demo").object();
      CompletableFuture<String> pending = doc.callAsync("Evaluate", "[\"Sum(Sales)\"]");
      long id = ((CallFuture<String>) pending).requestId();
      assertEquals(1, session.pendingCalls()); // counted when made
      assertTrue(sent.awaitCount(1, f -> f.contains("\"id\":" + id + ",")), sent.snapshot()::toString);
      assertTrue(pending.cancel(true));
      assertTrue(pending.isCancelled());
      assertThrows(CancellationException.class, pending::join);
      assertEquals(0, session.pendingCalls());
      // The engine is asked to stop: a CancelRequest naming the call's id goes out, and the engine aborts it.
      assertTrue(sent.awaitCount(1, f -> f.contains("\"CancelRequest\"") && f.contains("[" + id + "]")),
          sent.snapshot()::toString);
      assertTrue(received.awaitCount(1, f -> f.contains("\"id\":" + id + ",") && f.contains("Request aborted")),
          received.snapshot()::toString);
      assertTrue(pending.cancel(true), "cancel twice: still cancelled");
      // The session is still usable.
      assertTrue(session.call("EngineVersion", "[]").contains("qComponentVersion"));
    }
  }

  @Test
  void textIsUtf8BothWays() throws Exception {
    try (Session session = Session.open(sim.demo())) {
      QixObject doc = session.openDoc("demo").object();
      String text = "a\uD83D\uDE00\u00FC\u20AC"; // a, U+1F600 (outside the BMP), ü, €
      String result = doc.call("Evaluate", "[\"='" + text + "' & 'z'\"]");
      assertEquals("\"" + text + "z\"", result);
      String async = doc.callAsync("Evaluate", "[\"='" + text + "'\"]").get(10, TimeUnit.SECONDS);
      assertEquals("\"" + text + "\"", async);
    }
  }

  @Test
  void notificationsAreReplayedToANewListener() throws Exception {
    BlockingQueue<String> methods = new ArrayBlockingQueue<>(16);
    try (Session session = Session.open(sim.demo())) {
      // OnConnected arrived before the listener was added: it is replayed.
      NotificationListener l = (s, method, params) -> methods.add(method);
      session.addNotificationListener(l);
      assertEquals("OnConnected", methods.poll(10, TimeUnit.SECONDS));
      assertTrue(session.removeNotificationListener(l));
      assertFalse(session.removeNotificationListener(l));
    }
  }
}
