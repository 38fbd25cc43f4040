package org.libqix;

/**
 * Told of the engine's notifications (JSON-RPC requests without an id, e.g. {@code OnConnected}). When it is
 * added, the notifications the session already received are delivered first, in order.
 *
 * <p>Runs on a libqix event thread (see {@link Context}): do not block in it. An exception it throws is
 * reported (see {@link Qix#setListenerExceptionHandler}) and never reaches libqix.
 */
@FunctionalInterface
public interface NotificationListener {
  /** A notification named {@code method}, with its params as JSON text. */
  void onNotification(Session session, String method, String paramsJson);
}
