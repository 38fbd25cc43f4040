package org.libqix;

/**
 * Receives what a listener threw on a libqix event thread (see {@link Qix#setListenerExceptionHandler}). It
 * runs on that thread; what it throws itself is printed to {@code System.err} and dropped.
 */
@FunctionalInterface
public interface ListenerExceptionHandler {
  /** {@code where} names the callback (e.g. "ChangeListener.onChanged"), {@code error} is what it threw. */
  void handle(String where, Throwable error);
}
