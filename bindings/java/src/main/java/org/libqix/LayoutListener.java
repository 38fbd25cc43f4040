package org.libqix;

/**
 * Receives the layouts of a watched object ({@link QixObject#watch(LayoutListener)}): the current one, then
 * a fresh one after every change (bursts of changes coalesced into one fetch).
 *
 * <p>Runs on a libqix event thread (see {@link Context}): do not block in it. An exception it throws is
 * reported (see {@link Qix#setListenerExceptionHandler}) and never reaches libqix.
 */
@FunctionalInterface
public interface LayoutListener {
  /** A fresh layout of {@code object} as JSON text (the {@code qLayout} value). */
  void onLayout(QixObject object, String layoutJson);

  /** A layout fetch failed (by default: ignored; the next change triggers another fetch). */
  default void onError(QixObject object, QixException error) {}
}
