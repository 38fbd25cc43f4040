package org.libqix;

/**
 * Told that an object's data is not current ("changed"): its layout changed on the engine, e.g. after a
 * selection; fetch the new layout ({@link QixObject#getLayoutAsync()}) or let {@link
 * QixObject#watch(LayoutListener)} do it.
 *
 * <p>The engine reports an object as changed only after its layout was computed. So a listener added while the
 * object's data is not current (its layout never fetched, or changed and not fetched since) and no fetch is in
 * flight is told once at once: fetch the layout. From that fetch on it is told once per invalidation (on the
 * valid-to-invalid edge), never twice for one. Objects without a layout (Global, Field, Variable) are never
 * told at once.
 *
 * <p>Runs on a libqix event thread (see {@link Context}): do not block in it. An exception it throws is
 * reported (see {@link Qix#setListenerExceptionHandler}) and never reaches libqix.
 */
@FunctionalInterface
public interface ChangeListener {
  /** {@code object} became invalid. */
  void onChanged(QixObject object);
}
