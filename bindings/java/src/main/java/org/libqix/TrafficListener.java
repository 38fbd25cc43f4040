package org.libqix;

/**
 * Sees every JSON-RPC frame of a session as sent or received (the exact wire text), for logging and
 * debugging. Frames never contain HTTP headers, so no credentials. Set with {@link
 * SessionOptions#trafficListener(TrafficListener)}.
 *
 * <p>Runs on a libqix event thread (see {@link Context}): do not block in it. An exception it throws is
 * reported (see {@link Qix#setListenerExceptionHandler}) and never reaches libqix.
 */
@FunctionalInterface
public interface TrafficListener {
  /** One frame: {@code sent} is true for a frame sent to the engine, false for one received. */
  void onFrame(boolean sent, String frame);
}
