package org.libqix;

/**
 * Told of a session's state changes (connected, closed ...).
 *
 * <p>Runs on a libqix event thread (see {@link Context}): do not block in it. An exception it throws is
 * reported (see {@link Qix#setListenerExceptionHandler}) and never reaches libqix.
 */
@FunctionalInterface
public interface StateListener {
  /**
   * The session's new state. For {@link SessionState#CLOSED}, {@link SessionState#SUSPENDED} and {@link
   * SessionState#RESUMED}, {@code closeCode} is the WebSocket close code (1000 normal, 1006 no close frame,
   * 4000-4007 the engine's) of the close or drop, and {@code reason} why; otherwise 0 and "".
   */
  void onStateChanged(Session session, SessionState state, int closeCode, String reason);
}
