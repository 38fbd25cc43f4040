package org.libqix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

/**
 * A server that does not speak QIX (the wrong port, another WebSocket service), played by {@code qix-engine-sim
 * --not-qix echo|silent|banner}: calls fail with {@link QixException.Code#PROTOCOL} and a message that names the
 * server and the problem. No test here bounds the time it takes: the silent case ends when libqix's protocol check
 * (timeout.protocol_ms, default 5 s) gives up, and the test waits for that.
 */
class NotQixTest {
  /** Checks that {@code e} is the protocol failure for a server at {@code sim} that does not speak QIX. */
  private static QixException assertNotQix(Throwable e, Simulator sim) {
    assertInstanceOf(QixException.class, e, () -> "not a QixException: " + e);
    QixException q = (QixException) e;
    assertEquals(QixException.Code.PROTOCOL, q.code(), q::toString);
    assertEquals(-8, q.status());
    assertTrue(q.getMessage().contains("does not speak the QIX protocol"), q.getMessage());
    assertTrue(q.getMessage().contains(sim.url() + "/app/demo"), () -> "the server is not named: " + q.getMessage());
    return q;
  }

  @Test
  void anEchoServerFailsEveryCallWithProtocol() throws Exception {
    try (Simulator echo = new Simulator("--not-qix", "echo");
        Session session = Session.open(echo.demo())) { // the WebSocket upgrade itself succeeds
      // Two calls: whichever the server echoes first ends the session, and both fail with the diagnosis.
      CompletableFuture<String> other = session.callAsync("EngineVersion", "[]");
      QixException e = assertNotQix(assertThrows(QixException.class, () -> session.openDoc("demo")), echo);
      assertTrue(e.getMessage().contains("back instead of answering"), e.getMessage());
      ExecutionException viaFuture = assertThrows(ExecutionException.class, other::get);
      assertNotQix(viaFuture.getCause(), echo);
      // Later calls fail with the same diagnosis, not a bare CLOSED.
      assertNotQix(assertThrows(QixException.class, () -> session.call("EngineVersion", "[]")), echo);
    }
  }

  @Test
  void aSilentServerFailsTheCallWhenTheProtocolCheckGivesUp() throws Exception {
    try (Simulator silent = new Simulator("--not-qix", "silent");
        Session session = Session.open(silent.demo())) {
      long start = System.nanoTime();
      QixException e = assertThrows(QixException.class, () -> session.openDoc("demo"));
      System.out.println("silent server: openDoc failed after " + (System.nanoTime() - start) / 1_000_000
          + " ms (timeout.protocol_ms, default 5000): " + e);
      assertNotQix(e, silent);
      assertTrue(e.getMessage().contains("timeout.protocol_ms"), e.getMessage());
    }
  }

  @Test
  void theProtocolCheckTakesItsBoundFromTheOption() throws Exception {
    try (Simulator silent = new Simulator("--not-qix", "silent");
        Session session = Session.open(silent.demo().set("timeout.protocol_ms", 300L))) {
      QixException e = assertNotQix(assertThrows(QixException.class, () -> session.openDoc("demo")), silent);
      assertTrue(e.getMessage().contains("within 300 ms"), e.getMessage());
    }
  }

  @Test
  void aServerSendingPlainTextIsNamed() throws Exception {
    try (Simulator banner = new Simulator("--not-qix", "banner")) {
      // Its banner arrives right after the upgrade: the session may end before open() returns or after.
      QixException e = assertThrows(QixException.class, () -> {
        try (Session session = Session.open(banner.demo())) {
          session.openDoc("demo");
        }
      });
      assertNotQix(e, banner);
      assertTrue(e.getMessage().contains("Welcome to the echo-chat service"), e.getMessage());
    }
  }
}
