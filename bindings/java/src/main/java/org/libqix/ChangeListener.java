package org.libqix;

/**
 * Told when an object's data became invalid ("changed"): its layout changed on the engine, e.g. after a
 * selection. Fires once per invalidation (on the valid-to-invalid edge), never twice for one; fetch the new
 * layout ({@link QixObject#getLayoutAsync()}) or let {@link QixObject#watch(LayoutListener)} do it.
 *
 * <p>Runs on a libqix event thread (see {@link Context}): do not block in it. An exception it throws is
 * reported (see {@link Qix#setListenerExceptionHandler}) and never reaches libqix.
 */
@FunctionalInterface
public interface ChangeListener {
  /** {@code object} became invalid. */
  void onChanged(QixObject object);
}
