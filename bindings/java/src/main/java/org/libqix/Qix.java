package org.libqix;

/**
 * Library-wide functions of the Java binding of libqix.
 *
 * <p>The binding's public types: {@link Context} (threads), {@link Session} (one connection), {@link
 * QixObject} (one engine object), {@link SessionOptions} and {@link CallOptions} (settings), {@link
 * QixException} (errors) and the listener interfaces. Natives are loaded on first use (see {@link
 * #version()} for the rules).
 */
public final class Qix {
  private Qix() {}

  /**
   * The version of the native library libqix at run time (e.g. "1.0.0"). Loads the natives if needed: first
   * {@code libqix_java.so} from {@code java.library.path} (an override, e.g. for a system installation), else
   * the copies inside the jar ({@code natives/<os>-<arch>/}), extracted to a private temporary directory that
   * is deleted again once they are loaded.
   *
   * @throws UnsatisfiedLinkError when neither is available for this platform
   */
  public static String version() {
    return QixNative.version();
  }

  /**
   * Sets who receives what a listener throws ({@code null}: print it to {@code System.err}, the default).
   * Listener exceptions never reach libqix and never stop event delivery. Applies to every session.
   */
  public static void setListenerExceptionHandler(ListenerExceptionHandler handler) {
    Dispatch.setHandler(handler);
  }

  /** Where the natives were loaded from: {@code "java.library.path"} or {@code "jar:natives/<os>-<arch>"}. */
  public static String nativesSource() {
    QixNative.version(); // loads them
    return NativeLoader.source();
  }
}
