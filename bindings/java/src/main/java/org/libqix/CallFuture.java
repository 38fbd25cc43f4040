package org.libqix;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The future of one asynchronous call. {@link #cancel} also cancels the call in libqix, which asks the
 * engine to stop (CancelRequest). Dependent stages ({@code thenApply} ...) are plain CompletableFutures:
 * cancelling one of them does not cancel the call, as usual for CompletableFuture.
 *
 * <p>Completed on a libqix event thread, so dependent stages added without an executor run there too.
 * Waiting for it ({@code get}, {@code join}) inside a libqix callback would stall the events that complete
 * it, so the callback's session is first handed over to another thread (see {@link Session}, Threads);
 * where there is no session to hand over (a traffic listener), it fails at once with {@link
 * QixException.Code#BUSY} unless already done.
 */
final class CallFuture<T> extends CompletableFuture<T> {
  /** Turns a successful native result into the value (runs on the event thread, during the callback). */
  interface Converter<T> {
    T convert(NativeResult result);
  }

  /** Turns the whole result (JSON text) of a success that refers to no object into the value. */
  interface RawConverter<T> {
    T convert(String raw);
  }

  /** Undoes a value nobody will receive (e.g. closes an object of a call cancelled meanwhile). */
  interface Discard<T> {
    void discard(T value);
  }

  private final Session session;
  private final Converter<T> converter;
  private final RawConverter<T> rawConverter;
  private final Discard<T> discard;
  /** The typed API's path (instead of the converters): the object called and the result's decoder. */
  private final QixObject owner;
  private final ResultDecoder<T> decoder;
  /** The object a decoded result referred to (set on the event thread before completing). */
  QixObject adopted;
  private volatile long requestId;
  private volatile long token;

  /** Converts a NOT_FOUND result ("the result refers to no object": qHandle null) too, instead of failing. */
  private final boolean convertNotFound;

  CallFuture(Session session, Converter<T> converter, Discard<T> discard) {
    this(session, converter, discard, false);
  }

  CallFuture(Session session, Converter<T> converter, Discard<T> discard, boolean convertNotFound) {
    this(session, converter, null, discard, convertNotFound);
  }

  /**
   * With {@code rawConverter} (not null), the call is made so that a success that refers to no object arrives
   * as its raw text ({@link #deliverRaw}); every other outcome goes through {@code converter} as before.
   */
  CallFuture(Session session, Converter<T> converter, RawConverter<T> rawConverter, Discard<T> discard,
      boolean convertNotFound) {
    this.session = session;
    this.converter = converter;
    this.rawConverter = rawConverter;
    this.discard = discard;
    this.convertNotFound = convertNotFound;
    this.owner = null;
    this.decoder = null;
  }

  /**
   * The typed API's call ({@link QixObject#callAsync(String, String, CallOptions, ResultDecoder)}): a success
   * that refers to no object arrives as raw text and goes to {@code decoder} with no object; any other
   * success is decoded with the object it refers to (closed again when nobody receives the value). No
   * converter objects per call.
   */
  CallFuture(Session session, QixObject owner, ResultDecoder<T> decoder) {
    this.session = session;
    this.converter = null;
    this.rawConverter = null;
    this.discard = null;
    this.convertNotFound = true;
    this.owner = owner;
    this.decoder = decoder;
  }

  void setRequestId(long id) {
    requestId = id;
  }

  /** The token its result is delivered with. */
  void setToken(long token) {
    this.token = token;
  }

  long token() {
    return token;
  }

  /** The session the call was made on. */
  Session session() {
    return session;
  }

  /** The JSON-RPC request id of the call (0 before it was sent). */
  long requestId() {
    return requestId;
  }

  /** Whether the call is made for {@link #deliverRaw}. */
  boolean takesRaw() {
    return rawConverter != null || decoder != null;
  }

  /**
   * Completes with a success that refers to no object, given as the whole result's text: {@code
   * text[from, to)}, as the run of results it came in holds it (event thread).
   */
  void deliverRaw(String text, int from, int to) {
    T value;
    try {
      value = decoder != null ? decoder.decode(text, from, to, null) : rawConverter.convert(text.substring(from, to));
    } catch (Throwable t) {
      completeExceptionally(t);
      return;
    }
    complete(value);
  }

  /** Completes with @p result (on the event thread). */
  void deliver(NativeResult result) {
    if (!result.ok() && !(convertNotFound && result.status() == QixException.Code.NOT_FOUND.status())) {
      completeExceptionally(QixException.of(result.error()));
      return;
    }
    T value;
    try {
      value = decoder != null ? owner.decodeFor(this, result, decoder) : converter.convert(result);
    } catch (Throwable t) {
      completeExceptionally(t);
      return;
    }
    if (!complete(value)) {
      if (decoder != null) {
        if (adopted != null) {
          adopted.close();
        }
      } else if (discard != null) {
        discard.discard(value);
      }
    }
  }

  @Override
  public boolean cancel(boolean mayInterruptIfRunning) {
    boolean wasDone = isDone();
    boolean cancelled = super.cancel(mayInterruptIfRunning);
    if (cancelled && !wasDone) {
      session.cancelRequest(requestId);
    }
    return cancelled;
  }

  private void checkNotInCallback() {
    if (!isDone() && !Dispatch.prepareToBlock()) {
      throw new QixException(QixException.Code.BUSY,
          "waiting for a libqix future inside this libqix callback would stall event delivery; "
              + "chain a dependent stage instead");
    }
  }

  @Override
  public T get() throws InterruptedException, ExecutionException {
    checkNotInCallback();
    return super.get();
  }

  @Override
  public T get(long timeout, TimeUnit unit) throws InterruptedException, ExecutionException, TimeoutException {
    checkNotInCallback();
    return super.get(timeout, unit);
  }

  @Override
  public T join() {
    checkNotInCallback();
    return super.join();
  }

  @Override
  public <U> CompletableFuture<U> newIncompleteFuture() {
    return new CompletableFuture<>();
  }
}
