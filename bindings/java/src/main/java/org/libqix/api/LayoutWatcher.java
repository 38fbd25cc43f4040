package org.libqix.api;

import org.libqix.QixException;

/**
 * Receives the decoded layouts of a watched typed object ({@code watchLayout}: {@link GenericObject#watchLayout},
 * {@link Doc#watchLayout} ...): the current one, then a fresh one after every change, as {@link
 * org.libqix.QixObject#watch} does with JSON text. Runs on a libqix event thread: do not block in it.
 *
 * @param <O> the typed object
 * @param <L> its layout type ({@link GenericObjectLayout}, {@link NxAppLayout} ...)
 */
@FunctionalInterface
public interface LayoutWatcher<O, L> {
  /** A fresh layout of {@code object}. */
  void onLayout(O object, L layout);

  /** A layout fetch failed (by default: ignored; the next change triggers another fetch). */
  default void onError(O object, QixException error) {}
}
