package org.libqix;

/**
 * Told once when an object's engine handle was released ("closed"): the engine destroyed the object, or the
 * session ended. The object is a zombie afterwards: its calls fail with {@link QixException.Code#CLOSED}.
 *
 * <p>Runs on a libqix event thread (see {@link Context}): do not block in it. An exception it throws is
 * reported (see {@link Qix#setListenerExceptionHandler}) and never reaches libqix.
 */
@FunctionalInterface
public interface CloseListener {
  /** {@code object}'s engine handle was released. */
  void onClosed(QixObject object);
}
