package org.libqix;

import java.time.Duration;
import java.util.Objects;

/**
 * Per-call settings: the delta protocol and a timeout. Immutable and thread-safe; the {@code with*} methods
 * return a new instance.
 *
 * <pre>{@code
 * String layout = object.call("GetLayout", "[]", CallOptions.DEFAULT.withTimeout(Duration.ofSeconds(5)));
 * }</pre>
 */
public final class CallOptions {
  /** The session's defaults: its {@code delta} option and its {@code timeout.call_ms}. */
  public static final CallOptions DEFAULT = new CallOptions(qix_call_flags.QIX_CALL_DEFAULT, -1);

  private final int flags;
  private final int timeoutMs;

  private CallOptions(int flags, int timeoutMs) {
    this.flags = flags;
    this.timeoutMs = timeoutMs;
  }

  /**
   * Asks for the delta protocol for this call ({@code true}; only methods that support it use it) or turns it
   * off ({@code false}), whatever the session's {@code delta} option says. Results are the same either way:
   * libqix applies the patches.
   */
  public CallOptions withDelta(boolean delta) {
    return new CallOptions(delta ? qix_call_flags.QIX_CALL_DELTA : qix_call_flags.QIX_CALL_NO_DELTA, timeoutMs);
  }

  /**
   * Fails the call with {@link QixException.Code#TIMEOUT} when no answer came within {@code timeout}
   * ({@link Duration#ZERO} = never), instead of the session's {@code timeout.call_ms}. Millisecond precision,
   * at most {@link Integer#MAX_VALUE} ms.
   */
  public CallOptions withTimeout(Duration timeout) {
    Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative()) {
      throw new IllegalArgumentException("negative timeout: " + timeout);
    }
    return new CallOptions(flags, Context.toMillis(timeout));
  }

  /** Uses the session's call timeout again. */
  public CallOptions withSessionTimeout() {
    return new CallOptions(flags, -1);
  }

  int flags() {
    return flags;
  }

  int timeoutMs() {
    return timeoutMs;
  }

  @Override
  public String toString() {
    String delta = flags == qix_call_flags.QIX_CALL_DELTA ? "on"
        : flags == qix_call_flags.QIX_CALL_NO_DELTA ? "off" : "session default";
    String timeout = timeoutMs < 0 ? "session default" : timeoutMs == 0 ? "none" : timeoutMs + " ms";
    return "CallOptions[delta=" + delta + ", timeout=" + timeout + "]";
  }
}
