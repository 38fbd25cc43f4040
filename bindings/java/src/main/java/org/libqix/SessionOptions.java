package org.libqix;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Every setting of a session, set by name as in the C API ({@code docs/defaults.md} lists the names and
 * defaults), plus typed shortcuts for the common ones. A builder: the setters return {@code this}.
 *
 * <pre>{@code
 * SessionOptions options = SessionOptions.forUrl("wss://tenant.eu.qlikcloud.com/app/" + appId)
 *     .header("Authorization", "Bearer " + apiKey)
 *     .callTimeout(Duration.ofSeconds(30));
 * }</pre>
 *
 * <p>Each setter checks its name and value at once and throws {@link QixException} ({@link
 * QixException.Code#INVALID_ARGUMENT}) for an unknown name, a name of another type or a bad value.
 * Header values are secrets: {@link #toString()} never shows them.
 *
 * <p>Not thread-safe: fill it on one thread. Opening a session copies it, so it can be reused.
 */
public final class SessionOptions {
  private final List<Consumer<NativeOptions>> settings = new ArrayList<>();
  private TrafficListener traffic;

  /**
   * Every option libqix knows, with its type, bounds, accepted values, default and a one-line description,
   * in {@code docs/defaults.md}'s order (which may change between versions: find options by name).
   * Thread-safe; the list is unmodifiable.
   */
  public static List<OptionInfo> describe() {
    return OptionInfo.all();
  }

  /** Options with every default (which connect nowhere useful: set {@code url} or the {@code url.*} parts). */
  public SessionOptions() {}

  /** Options with the complete engine URL {@code url} ({@code ws://} or {@code wss://}). */
  public static SessionOptions forUrl(String url) {
    return new SessionOptions().set("url", url);
  }

  private SessionOptions add(Consumer<NativeOptions> setting) {
    // Check now, on a scratch copy, so that the mistake is reported where it is made.
    NativeOptions scratch = new NativeOptions();
    try {
      setting.accept(scratch);
    } finally {
      scratch.delete();
    }
    settings.add(setting);
    return this;
  }

  /** Sets a string option (e.g. {@code url}, {@code url.host}, {@code tls.ca_file}, {@code origin}). */
  public SessionOptions set(String name, String value) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(value, "value");
    return add(o -> o.set(name, value));
  }

  /** Sets an integer option (e.g. {@code url.port}, {@code timeout.call_ms}, {@code max_message_size}). */
  public SessionOptions set(String name, long value) {
    Objects.requireNonNull(name, "name");
    return add(o -> o.setInt(name, value));
  }

  /**
   * Sets a boolean option (e.g. {@code delta}, {@code tls.verify}, {@code url.secure}). {@code events.poll}
   * true is refused (false, its default, is accepted): this binding delivers events on libqix's threads, not
   * where the host polls. {@code events.inline} (default true): listeners and futures' dependent stages run
   * on the I/O thread that read their answers when nothing of the session is queued before them (else on an
   * event thread), which saves a thread hand-off per answer; one that blocks for long holds up the context's
   * other sessions until libqix's watch gives the I/O thread's work to another thread (10 to 20 ms later).
   * False runs them on the event threads always.
   */
  public SessionOptions set(String name, boolean value) {
    Objects.requireNonNull(name, "name");
    if (name.equals("events.poll") && value) {
      throw new IllegalArgumentException(name + " is not supported by the Java binding: listeners and "
          + "futures run on libqix's threads");
    }
    return add(o -> o.setBool(name, value));
  }

  /** Adds an HTTP header to the WebSocket upgrade request (a secret: never logged). */
  public SessionOptions header(String name, String value) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(value, "value");
    return add(o -> o.addHeader(name, value));
  }

  /** Adds a cookie (all are sent in one Cookie header). */
  public SessionOptions cookie(String name, String value) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(value, "value");
    return add(o -> o.addCookie(name, value));
  }

  /** Adds a query parameter to the URL built from the {@code url.*} parts. */
  public SessionOptions urlParam(String name, String value) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(value, "value");
    return add(o -> o.addUrlParam(name, value));
  }

  /** The delta protocol for every call by default (option {@code delta}; on unless set). */
  public SessionOptions delta(boolean on) {
    return set("delta", on);
  }

  /** The default timeout of every call (option {@code timeout.call_ms}; {@link Duration#ZERO} = none). */
  public SessionOptions callTimeout(Duration timeout) {
    return set("timeout.call_ms", (long) Context.toMillis(requireNonNegative(timeout)));
  }

  /** The timeout of the TCP (and TLS) connect (option {@code timeout.connect_ms}). */
  public SessionOptions connectTimeout(Duration timeout) {
    return set("timeout.connect_ms", (long) Context.toMillis(requireNonNegative(timeout)));
  }

  /**
   * Sends every JSON-RPC frame of the session to {@code listener} ({@code null} removes it). The listener is
   * kept until the session is closed.
   */
  public SessionOptions trafficListener(TrafficListener listener) {
    this.traffic = listener;
    return this;
  }

  /** The engine URL these options describe: {@code url} when set, else the one built from the url.* parts. */
  public String url() {
    NativeOptions o = toNative();
    try {
      return o.url();
    } finally {
      o.delete();
    }
  }

  TrafficListener traffic() {
    return traffic;
  }

  /** A native copy, to delete by the caller. */
  NativeOptions toNative() {
    NativeOptions o = new NativeOptions();
    try {
      for (Consumer<NativeOptions> s : settings) {
        s.accept(o);
      }
    } catch (RuntimeException e) {
      o.delete();
      throw e;
    }
    return o;
  }

  private static Duration requireNonNegative(Duration d) {
    Objects.requireNonNull(d, "timeout");
    if (d.isNegative()) {
      throw new IllegalArgumentException("negative timeout: " + d);
    }
    return d;
  }

  /** The URL without its query (which may carry a ticket); never headers or cookies (credentials). */
  @Override
  public String toString() {
    String url = url();
    int query = url.indexOf('?');
    return "SessionOptions[" + (query < 0 ? url : url.substring(0, query) + "?...") + "]";
  }
}
