package org.libqix;

import java.nio.charset.StandardCharsets;

/**
 * A failure reported by libqix: a library condition (closed session, timeout, lost connection, bad
 * argument ...) or an error answered by the engine.
 *
 * <p>For an engine error ({@link Code#ENGINE}) the exception keeps what the engine said: its numeric
 * {@linkplain #engineCode() code} (e.g. 1003), the matching {@linkplain #locerrName() LOCERR name} (e.g.
 * {@code LOCERR_APP_NOT_FOUND}), the {@linkplain #parameter() parameter} and the {@linkplain #getMessage()
 * message}. For an HTTP error during connect ({@link Code#HTTP}), {@link #engineCode()} is the HTTP status.
 *
 * <p>Unchecked: blocking methods throw it directly; futures complete exceptionally with it (so {@code
 * future.get()} throws an {@link java.util.concurrent.ExecutionException} and {@code join()} a {@link
 * java.util.concurrent.CompletionException} whose cause is this exception).
 *
 * <p>Immutable and thread-safe.
 */
public class QixException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** The kind of failure: libqix's status codes ({@code QIX_E*} in {@code qix.h}), which never change. */
  public enum Code {
    /** A null or invalid argument, or malformed params JSON ({@code QIX_EINVAL}). */
    INVALID_ARGUMENT(-1),
    /** The session or object is closed; nothing was sent ({@code QIX_ECLOSED}). */
    CLOSED(-2),
    /** The engine answered with an error: see {@link #engineCode()} ({@code QIX_EENGINE}). */
    ENGINE(-3),
    /** A call or connect timeout expired ({@code QIX_ETIMEOUT}). */
    TIMEOUT(-4),
    /** The call was cancelled ({@code QIX_ECANCELLED}). */
    CANCELLED(-5),
    /** The connection was lost before the answer arrived ({@code QIX_ECONNECTION}). */
    CONNECTION_LOST(-6),
    /** No such thing: no object in the result, no layout fetched yet ... ({@code QIX_ENOTFOUND}). */
    NOT_FOUND(-7),
    /** The peer broke the protocol ({@code QIX_EPROTOCOL}). */
    PROTOCOL(-8),
    /** A message exceeded the maximum message size ({@code QIX_ETOOLARGE}). */
    TOO_LARGE(-9),
    /** The WebSocket upgrade got an HTTP error: {@link #engineCode()} is the status ({@code QIX_EHTTP}). */
    HTTP(-10),
    /** TLS handshake or certificate verification failed ({@code QIX_ETLS}). */
    TLS(-11),
    /** Name resolution, TCP connect or I/O failed ({@code QIX_ENETWORK}). */
    NETWORK(-12),
    /** Not possible from here: a blocking wait inside a libqix callback ({@code QIX_EBUSY}). */
    BUSY(-13),
    /** Out of memory ({@code QIX_ENOMEM}). */
    OUT_OF_MEMORY(-14),
    /** A bug in libqix ({@code QIX_EINTERNAL}). */
    INTERNAL(-15),
    /** A status this version of the binding does not know (a newer libqix). */
    UNKNOWN(Integer.MIN_VALUE);

    private final int status;

    Code(int status) {
      this.status = status;
    }

    /** The C API's status value ({@code QIX_E*}). */
    public int status() {
      return status;
    }

    /** The code of a C API status; {@link #UNKNOWN} for one this version does not know. */
    public static Code of(int status) {
      for (Code c : values()) {
        if (c.status == status) {
          return c;
        }
      }
      return UNKNOWN;
    }
  }

  private final int status;
  private final int engineCode;
  private final String locerrName;
  private final String parameter;
  private final boolean retriable;

  /** Made by the JNI shim (qix_java.i) from a qix::Error; strings are UTF-8. */
  QixException(int status, int engineCode, byte[] locerrName, byte[] parameter, byte[] message, boolean retriable) {
    this(status, engineCode, utf8(locerrName), utf8(parameter), utf8(message), retriable);
  }

  /** An error with every detail. */
  QixException(int status, int engineCode, String locerrName, String parameter, String message, boolean retriable) {
    super(message);
    this.status = status;
    this.engineCode = engineCode;
    this.locerrName = locerrName == null ? "" : locerrName;
    this.parameter = parameter == null ? "" : parameter;
    this.retriable = retriable;
  }

  /** A library-side error (no engine details). */
  QixException(Code code, String message) {
    this(code.status(), 0, "", "", message, false);
  }

  /** The error carried by a failed native result. */
  static QixException of(NativeError e) {
    return new QixException(e.status(), e.engineCode(), e.name(), e.parameter(), e.message(), e.retriable());
  }

  private static String utf8(byte[] b) {
    return b == null ? "" : new String(b, StandardCharsets.UTF_8);
  }

  /** The kind of failure. */
  public Code code() {
    return Code.of(status);
  }

  /** The C API's status value (a negative {@code QIX_E*}), also for codes {@link Code#UNKNOWN} to this version. */
  public int status() {
    return status;
  }

  /** Engine errors: the engine's code (e.g. 1003); HTTP errors: the HTTP status; otherwise 0. */
  public int engineCode() {
    return engineCode;
  }

  /** Engine errors: the LOCERR name of {@link #engineCode()} (e.g. {@code LOCERR_APP_NOT_FOUND}); else "". */
  public String locerrName() {
    return locerrName;
  }

  /** Engine errors: the engine's {@code parameter} (often the object or app concerned); else "". */
  public String parameter() {
    return parameter;
  }

  /** True when retrying the same request may succeed (engine code 15 "aborted", timeouts, lost connections). */
  public boolean isRetriable() {
    return retriable;
  }

  @Override
  public String toString() {
    StringBuilder b = new StringBuilder(getClass().getName()).append(": ").append(code());
    if (engineCode != 0) {
      b.append(' ').append(engineCode);
    }
    if (!locerrName.isEmpty()) {
      b.append(' ').append(locerrName);
    }
    b.append(": ").append(getMessage());
    if (!parameter.isEmpty()) {
      b.append(" (parameter: ").append(parameter).append(')');
    }
    return b.toString();
  }
}
