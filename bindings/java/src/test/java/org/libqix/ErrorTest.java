package org.libqix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.libqix.api.Doc;

/** Error mapping, disconnects failing pending calls, timeouts, close twice, use after close. */
class ErrorTest {
  private static Simulator sim;

  @BeforeAll
  static void start() throws Exception {
    sim = new Simulator();
  }

  @AfterAll
  static void stop() throws Exception {
    sim.close();
  }

  private static QixException cause(Throwable t) {
    assertInstanceOf(QixException.class, t.getCause(), () -> "cause of " + t);
    return (QixException) t.getCause();
  }

  @Test
  void engineErrorsKeepCodeNameParameterAndMessage() throws Exception {
    try (Session session = Session.open(sim.demo())) {
      QixException e = assertThrows(QixException.class, () -> session.openDoc("no-such-app"));
      assertEquals(QixException.Code.ENGINE, e.code());
      assertEquals(-3, e.status());
      assertEquals(1003, e.engineCode());
      assertEquals("LOCERR_APP_NOT_FOUND", e.locerrName());
      assertEquals("no-such-app", e.parameter());
      assertFalse(e.getMessage().isEmpty());
      assertFalse(e.isRetriable());
      assertTrue(e.toString().contains("LOCERR_APP_NOT_FOUND"), e.toString());

      // The same through a future: get() wraps it in an ExecutionException, join() in a CompletionException.
      CompletableFuture<Doc> f = session.openDocAsync("no-such-app");
      QixException viaGet = cause(assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS)));
      assertEquals(1003, viaGet.engineCode());
      assertEquals("LOCERR_APP_NOT_FOUND", viaGet.locerrName());
      QixException viaJoin = cause(assertThrows(RuntimeException.class, f::join));
      assertEquals(QixException.Code.ENGINE, viaJoin.code());

      QixObject doc = session.openDoc("demo").object();
      // One app per session: libqix refuses a second OpenDoc itself, nothing is sent.
      QixException twice = assertThrows(QixException.class, () -> session.openDoc("demo"));
      assertEquals(QixException.Code.INVALID_ARGUMENT, twice.code());
      assertEquals(0, twice.engineCode());

      QixException unknown = assertThrows(QixException.class, () -> doc.call("NoSuchMethod", "[]"));
      assertEquals(-32601, unknown.engineCode());

      QixException missing = assertThrows(QixException.class, () -> doc.getObject("no-such-object"));
      assertEquals(QixException.Code.NOT_FOUND, missing.code());
    }
  }

  @Test
  void libraryErrors() throws Exception {
    QixException option = assertThrows(QixException.class, () -> new SessionOptions().set("no.such.option", "x"));
    assertEquals(QixException.Code.INVALID_ARGUMENT, option.code());
    assertThrows(QixException.class, () -> new SessionOptions().set("url.port", true));
    assertThrows(IllegalArgumentException.class, () -> new SessionOptions().set("events.poll", true));
    new SessionOptions().set("events.inline", true).set("events.inline", false); // both accepted
    assertEquals("ws://localhost:9076/app/demo/ttl/30",
        new SessionOptions().set("url.secure", false).set("url.host", "localhost").set("url.port", 9076L).set("url.app_id", "demo")
            .set("url.ttl", 30L).url());

    try (Session session = Session.open(sim.demo())) {
      QixException params = assertThrows(QixException.class, () -> session.call("EngineVersion", "[1,"));
      assertEquals(QixException.Code.INVALID_ARGUMENT, params.code());
      // Asynchronous calls never throw for it: the future fails.
      CompletableFuture<String> f = session.callAsync("EngineVersion", "[1,");
      assertTrue(f.isCompletedExceptionally());
      assertEquals(QixException.Code.INVALID_ARGUMENT, cause(assertThrows(ExecutionException.class, f::get)).code());
    }

    // Nothing listens on a port we just closed.
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    QixException refused = assertThrows(QixException.class,
        () -> Session.open(SessionOptions.forUrl("ws://127.0.0.1:" + port + "/app/demo"), Duration.ofSeconds(10)));
    assertEquals(QixException.Code.NETWORK, refused.code());
  }

  @Test
  void callTimeouts() throws Exception {
    try (Simulator slow = new Simulator("--latency-ms", "1500");
        Session session = Session.open(slow.demo(), Duration.ofSeconds(10))) {
      CallOptions quick = CallOptions.DEFAULT.withTimeout(Duration.ofMillis(200));
      QixException blocking = assertThrows(QixException.class, () -> session.call("EngineVersion", "[]", quick));
      assertEquals(QixException.Code.TIMEOUT, blocking.code());
      assertTrue(blocking.isRetriable());
      CompletableFuture<String> f = session.callAsync("EngineVersion", "[]", quick);
      assertEquals(QixException.Code.TIMEOUT, cause(assertThrows(ExecutionException.class,
          () -> f.get(10, TimeUnit.SECONDS))).code());
      // Without a timeout the slow answer arrives.
      assertTrue(session.call("EngineVersion", "[]").contains("qComponentVersion"));
    }
  }

  @Test
  void closingTheSessionFailsPendingCalls() throws Exception {
    // Every answer an hour late: the calls stay pending until the close (the greeting is not delayed).
    try (Simulator slow = new Simulator("--latency-ms", "3600000")) {
      Session session = Session.open(slow.demo(), Duration.ofSeconds(10));
      QixObject global = session.global().object();
      List<CompletableFuture<String>> futures = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        futures.add(i % 2 == 0 ? session.callAsync("EngineVersion", "[]") : global.callAsync("EngineVersion", "[]"));
      }
      assertEquals(100, session.pendingCalls()); // counted when made
      session.close();
      for (CompletableFuture<String> f : futures) {
        QixException e = cause(assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS)));
        assertEquals(QixException.Code.CLOSED, e.code());
      }
      // Use after close: blocking calls throw, asynchronous ones fail, objects are closed; nothing crashes.
      assertEquals(QixException.Code.CLOSED,
          assertThrows(QixException.class, () -> session.call("EngineVersion", "[]")).code());
      assertEquals(QixException.Code.CLOSED,
          cause(assertThrows(ExecutionException.class, () -> global.callAsync("EngineVersion", "[]").get())).code());
      assertTrue(global.isClosed());
      assertEquals(SessionState.CLOSED, session.state());
      assertEquals(0, session.pendingCalls());
      session.close(); // twice
      global.close();
      global.close();
    }
  }

  @Test
  void aDroppedConnectionFailsPendingCallsAndClosesTheSession() throws Exception {
    // The engine holds Evaluate: the calls are still pending when it goes away.
    Simulator slow = new Simulator(Fixtures.HOLDING_CALCULATIONS);
    try (Session session = Session.open(slow.demo(), Duration.ofSeconds(10))) {
      BlockingQueue<Integer> closeCodes = new ArrayBlockingQueue<>(4);
      session.addStateListener((s, state, code, reason) -> {
        if (state == SessionState.CLOSED) {
          closeCodes.add(code);
        }
      });
      QixObject global = session.global().object();
      QixObject doc = session.openDoc("demo").object();
      QixObject cube = doc.createSessionObject(Fixtures.CUBE);
      BlockingQueue<QixObject> closedObjects = new ArrayBlockingQueue<>(4);
      cube.addCloseListener(closedObjects::add);
      List<CompletableFuture<String>> futures = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        futures.add(doc.callAsync("Evaluate", "[\"Sum(Sales)+" + i + "\"]"));
      }
      assertEquals(50, session.pendingCalls()); // counted when made
      slow.kill();
      for (CompletableFuture<String> f : futures) {
        QixException e = cause(assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS)));
        assertTrue(e.code() == QixException.Code.CONNECTION_LOST || e.code() == QixException.Code.CLOSED,
            e.toString());
      }
      assertEquals(1006, closeCodes.poll(10, TimeUnit.SECONDS), "no close frame: 1006");
      assertEquals(SessionState.CLOSED, session.state());
      assertEquals(1006, session.closeCode());
      assertEquals(cube, closedObjects.poll(10, TimeUnit.SECONDS), "the session's objects are closed");
      assertTrue(cube.isClosed());
      assertEquals(QixException.Code.CLOSED,
          assertThrows(QixException.class, () -> global.call("EngineVersion", "[]")).code());
    } finally {
      slow.close();
    }
  }

  @Test
  void ioSpinIsSetInRangeAndCallsGoOnEitherWay() throws Exception {
    try (Context context = new Context(1, 1)) {
      assertEquals(QixException.Code.INVALID_ARGUMENT,
          assertThrows(QixException.class, () -> context.setIoSpin(-1)).code());
      assertEquals(QixException.Code.INVALID_ARGUMENT,
          assertThrows(QixException.class, () -> context.setIoSpin(1_000_001)).code());
      try (Session session = context.open(sim.demo())) {
        for (int spin : new int[] {1_000_000, 0, 50}) {
          context.setIoSpin(spin);
          for (int i = 0; i < 50; i++) {
            assertTrue(session.call("EngineVersion", "[]").contains("qComponentVersion"), "spin " + spin);
          }
        }
      }
    }
  }

  @Test
  void closeTwiceEverywhere() throws Exception {
    Context context = new Context(1, 1);
    Session session = context.open(sim.demo());
    QixObject doc = session.openDoc("demo").object();
    doc.close();
    doc.close();
    assertTrue(doc.isClosed());
    assertEquals(QixException.Code.CLOSED, assertThrows(QixException.class, doc::getLayout).code());
    session.close();
    session.close();
    context.close();
    context.close();
    assertTrue(context.isClosed());
    assertEquals(QixException.Code.CLOSED,
        assertThrows(QixException.class, () -> context.open(sim.demo())).code());
    assertEquals(QixException.Code.CLOSED, assertThrows(QixException.class, () -> context.setIoSpin(0)).code());
    // The shared context is never closed.
    Context.shared().close();
    assertFalse(Context.shared().isClosed());
  }
}
