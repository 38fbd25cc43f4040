package org.libqix;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Function;

/**
 * A handle to one engine object: the Global object, a Doc, a GenericObject, a Field, a GenericVariable ...
 * Obtained from {@code object()} of a typed object ({@link Session#openDoc}, {@link Session#global()} ...) or
 * any call that returns an object reference ({@link #callForObject}, e.g. CreateSessionObject, GetObject).
 *
 * <pre>{@code
 * QixObject cube = doc.createSessionObject(
 *     "{\"qInfo\":{\"qType\":\"table\"},\"qHyperCubeDef\":{...}}");
 * cube.addChangeListener(o -> o.getLayoutAsync().thenAccept(System.out::println));
 * }</pre>
 *
 * <p><b>Calls</b> work as on {@link Session} (JSON text in and out, blocking or as futures), on this
 * object's handle.
 *
 * <p><b>Events.</b> "Changed" ({@link ChangeListener}) fires when the object's data became invalid, once
 * per invalidation, and at once for a listener added while the data is not current (never fetched, or
 * changed and not fetched since: fetch the layout); "closed" ({@link CloseListener}) once when the engine
 * released the handle. {@link #watch(LayoutListener)} keeps the layout fresh and delivers each new one.
 * Listeners belong to this handle: they stay registered, and reachable, until removed or until this object
 * (or its session) is closed, whether or not the caller keeps a reference.
 *
 * <p><b>Lifetime.</b> {@link #close()} releases this handle (not the engine object: call
 * DestroySessionObject for that); {@link Session#close()} closes every object of the session. After the
 * engine closed the handle or the session ended, the object is a zombie: calls fail with {@link
 * QixException.Code#CLOSED}.
 *
 * <p><b>Threads.</b> Thread-safe, also concurrently with {@link #close()}. Listeners run on the context's
 * event threads.
 */
public final class QixObject implements AutoCloseable {
  private final Session session;
  /** The UTF-8 of the last method name and parameters sent (the typed API repeats literals). */
  private static final Utf8.Cache METHODS = new Utf8.Cache();
  private static final Utf8.Cache PARAMS = new Utf8.Cache();
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private NativeObject nat; // guarded by lock; null once closed
  private final int handle;
  private final String type;
  private final String genericId;
  private final String genericType;

  private final Subscriptions subscriptions = new Subscriptions(this);
  private long watchToken; // guarded by subscriptions

  QixObject(Session session, NativeObject nat) {
    this.session = session;
    this.nat = nat;
    this.handle = nat.handle();
    this.type = nat.type();
    this.genericId = nat.genericId();
    this.genericType = nat.genericType();
  }

  /** The session this object belongs to. */
  public Session session() {
    return session;
  }

  /**
   * The engine handle (-1 for Global). A reconnect that restores the object gives it a new one (see
   * docs/reconnect.md); once the object is closed, the last one known.
   */
  public int handle() {
    lock.readLock().lock();
    try {
      return nat != null ? nat.handle() : handle;
    } finally {
      lock.readLock().unlock();
    }
  }

  /** The qType ("Doc", "GenericObject", "Field" ...). */
  public String type() {
    return type;
  }

  /** The qGenericId (e.g. the qInfo.qId of a generic object; the app id of a Doc). */
  public String genericId() {
    return genericId;
  }

  /** The qGenericType (e.g. the qInfo.qType of a generic object). */
  public String genericType() {
    return genericType;
  }

  // ---------------------------------------------------------------------------------------------- natives

  interface NativeFn<T> {
    T apply(NativeObject o);
  }

  <T> T withNative(NativeFn<T> fn) {
    lock.readLock().lock();
    try {
      if (nat == null) {
        throw new QixException(QixException.Code.CLOSED, "the object (handle " + handle + ") is closed");
      }
      return fn.apply(nat);
    } finally {
      lock.readLock().unlock();
    }
  }

  /** True when the last fetched layout is current (fetched, and not invalidated since). */
  public boolean isValid() {
    lock.readLock().lock();
    try {
      return nat != null && nat.valid();
    } finally {
      lock.readLock().unlock();
    }
  }

  /** True when the handle is closed: by {@link #close()}, by the engine, or because the session ended. */
  public boolean isClosed() {
    lock.readLock().lock();
    try {
      return nat == null || nat.closed();
    } finally {
      lock.readLock().unlock();
    }
  }

  /**
   * The last layout fetched with GetLayout/GetAppLayout (the qLayout value, as JSON text), kept by libqix;
   * empty when none was fetched. It may be stale: see {@link #isValid()}.
   */
  public Optional<String> layout() {
    lock.readLock().lock();
    try {
      if (nat == null) {
        return Optional.empty();
      }
      return Optional.of(nat.layout());
    } catch (QixException e) {
      if (e.code() == QixException.Code.NOT_FOUND) {
        return Optional.empty();
      }
      throw e;
    } finally {
      lock.readLock().unlock();
    }
  }

  // ---------------------------------------------------------------------------------------------- calls

  /** Blocking call of {@code method} on this object; returns the result as JSON text. */
  public String call(String method, String paramsJson) {
    return call(method, paramsJson, CallOptions.DEFAULT);
  }

  /**
   * Blocking call of {@code method} on this object with per-call options (delta, timeout).
   *
   * @throws QixException with the engine's error ({@link QixException.Code#ENGINE}), {@link
   *     QixException.Code#TIMEOUT}, {@link QixException.Code#CLOSED}, {@link QixException.Code#INVALID_ARGUMENT}
   *     for malformed params, {@link QixException.Code#BUSY} in a libqix callback with no
   *     session to hand over (see {@link Session}, Threads) ...
   */
  public String call(String method, String paramsJson, CallOptions options) {
    Session.check(method, paramsJson, options);
    Dispatch.prepareToBlock(); // in a callback, hands the session over first (else libqix refuses: BUSY)
    NativeResult r = withNative(o -> o.call(method, paramsJson, options.flags(), options.timeoutMs()));
    try {
      return r.json();
    } finally {
      r.delete();
    }
  }

  /** Blocking call of a method that returns an object reference (CreateSessionObject, GetObject ...). */
  public QixObject callForObject(String method, String paramsJson) {
    return callForObject(method, paramsJson, CallOptions.DEFAULT);
  }

  /**
   * Blocking call of a method that returns an object reference, with per-call options.
   *
   * @throws QixException {@link QixException.Code#NOT_FOUND} when the result refers to no object (e.g.
   *     GetObject of a missing id), and as {@link #call(String, String, CallOptions)}
   */
  public QixObject callForObject(String method, String paramsJson, CallOptions options) {
    Session.check(method, paramsJson, options);
    Dispatch.prepareToBlock();
    NativeObject no = withNative(o -> {
      NativeResult r = o.call(method, paramsJson, options.flags(), options.timeoutMs());
      try {
        return r.object();
      } finally {
        r.delete();
      }
    });
    return session.adopt(no);
  }

  /** Asynchronous call of {@code method}: the future gives the result as JSON text. */
  public CompletableFuture<String> callAsync(String method, String paramsJson) {
    return callAsync(method, paramsJson, CallOptions.DEFAULT);
  }

  /**
   * Asynchronous call with per-call options. Never throws for libqix failures: the future completes
   * exceptionally with a {@link QixException} instead. {@code cancel(...)} on the future cancels the call
   * (the engine gets a CancelRequest).
   */
  public CompletableFuture<String> callAsync(String method, String paramsJson, CallOptions options) {
    Session.check(method, paramsJson, options);
    return issue(new CallFuture<>(session, NativeResult::json, null), method, paramsJson, options);
  }

  /** Asynchronous {@link #callForObject(String, String)}. */
  public CompletableFuture<QixObject> callForObjectAsync(String method, String paramsJson) {
    return callForObjectAsync(method, paramsJson, CallOptions.DEFAULT);
  }

  /** Asynchronous {@link #callForObject(String, String, CallOptions)}. */
  public CompletableFuture<QixObject> callForObjectAsync(String method, String paramsJson, CallOptions options) {
    Session.check(method, paramsJson, options);
    CallFuture<QixObject> f = new CallFuture<>(session, r -> session.adopt(r.object()), QixObject::close);
    return issue(f, method, paramsJson, options);
  }

  private <T> CompletableFuture<T> issue(CallFuture<T> f, String method, String params, CallOptions options) {
    long token = session.track(f);
    try {
      long id;
      lock.readLock().lock(); // withNative(), without a lambda per call
      try {
        if (nat == null) {
          throw new QixException(QixException.Code.CLOSED, "the object (handle " + handle + ") is closed");
        }
        id = QixNative.objectCall(nat, METHODS.encode(method), PARAMS.encode(params), options.flags(),
            options.timeoutMs(), token, f.takesRaw());
      } finally {
        lock.readLock().unlock();
      }
      f.setRequestId(id);
    } catch (QixException e) {
      if (CallTable.take(token) != null) { // else its completion or the session's close settles it
        f.completeExceptionally(e);
      }
    }
    return f;
  }

  /**
   * Blocking call whose whole result (not unwrapped) goes through {@code decoder}, with the object it refers to
   * when there is one. A result that refers to no object (qReturn.qHandle null: "not found") is no error here:
   * the decoder gets null (and, in a blocking call, "{}" for the result). The typed API's one call path.
   *
   * @throws QixException as {@link #call(String, String, CallOptions)}; what {@code decoder} throws
   */
  public <T> T call(String method, String paramsJson, CallOptions options, ResultDecoder<T> decoder) {
    Session.check(method, paramsJson, options);
    Objects.requireNonNull(decoder, "decoder");
    NativeResult r;
    Dispatch.prepareToBlock();
    try {
      r = withNative(o -> o.call(method, paramsJson, options.flags(), options.timeoutMs()));
    } catch (QixException e) {
      if (e.code() == QixException.Code.NOT_FOUND) { // the result refers to no object (qHandle null)
        return decoder.decode("{}", null);
      }
      throw e;
    }
    try {
      return decode(r, decoder, null);
    } finally {
      r.delete();
    }
  }

  /**
   * Asynchronous {@link #call(String, String, CallOptions, ResultDecoder)}: the decoder runs on the event thread
   * that completes the future. Cancelling the future cancels the call, as for {@link #callAsync(String,
   * String, CallOptions)}.
   */
  public <T> CompletableFuture<T> callAsync(String method, String paramsJson, CallOptions options,
      ResultDecoder<T> decoder) {
    Session.check(method, paramsJson, options);
    Objects.requireNonNull(decoder, "decoder");
    return issue(new CallFuture<>(session, this, decoder), method, paramsJson, options);
  }

  /** Decodes the result of {@code f}'s call, recording the object it refers to in {@code f.adopted}. */
  <T> T decodeFor(CallFuture<T> f, NativeResult r, ResultDecoder<T> decoder) {
    QixObject object = r.hasObject() ? session.adopt(r.object()) : null;
    f.adopted = object;
    return decodeWith(r, decoder, object);
  }

  private <T> T decode(NativeResult r, ResultDecoder<T> decoder, QixObject[] adopted) {
    QixObject object = r.hasObject() ? session.adopt(r.object()) : null;
    if (adopted != null) {
      adopted[0] = object;
    }
    return decodeWith(r, decoder, object);
  }

  /** Decodes {@code r} with {@code object} (adopted from it, or null); a failed decode closes the object. */
  private static <T> T decodeWith(NativeResult r, ResultDecoder<T> decoder, QixObject object) {
    try {
      return decoder.decode(r.raw(), object);
    } catch (RuntimeException | Error e) {
      if (object != null) {
        object.close();
      }
      throw e;
    }
  }

  /**
   * Bulk extraction of the hypercube at {@code path} (e.g. {@code "/qHyperCubeDef"}): every row, in order, as
   * {@code rowDecoder} makes it of the row's JSON text (an array of NxCell objects; {@code
   * Function.identity()} keeps the text). libqix pages through the cube with GetHyperCubeData, up to {@code
   * window} pages in flight; the rows wait for the reader in a buffer of {@code bufferRows} rows, and a full
   * buffer holds up the extraction (back-pressure: see {@link Extraction}). The typed form is {@code
   * extract(path, pageHeight, window)} of a {@link org.libqix.api.GenericObject}, with {@code List<NxCell>}
   * rows.
   *
   * @param pageHeight rows per GetHyperCubeData page; 0 = as many as fit in 10,000 cells (capped there)
   * @param window pages in flight at most; 0 = 4
   * @param bufferRows rows held for the reader at most (at least 1)
   * @param rowDecoder turns a row's JSON text into a row, on the reading thread
   * @return the running extraction: close it (try-with-resources) unless it is read to its end
   * @throws QixException {@link QixException.Code#CLOSED} when the object is closed, {@link
   *     QixException.Code#INVALID_ARGUMENT}; errors after the start (a path that names no hypercube, an engine
   *     error) come from the extraction's {@code hasNext()} / {@code next()}
   */
  public <T> Extraction<T> extract(String path, int pageHeight, int window, int bufferRows,
      Function<String, ? extends T> rowDecoder) {
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(rowDecoder, "rowDecoder");
    if (pageHeight < 0 || window < 0 || bufferRows < 1) {
      throw new QixException(QixException.Code.INVALID_ARGUMENT,
          "extract: pageHeight and window must be >= 0 and bufferRows >= 1");
    }
    Extraction<T> e = new Extraction<>(session, bufferRows, rowDecoder);
    long token = session.track(e);
    try {
      withNative(o -> {
        QixNative.objectExtract(o, path, pageHeight, window, token);
        return null;
      });
    } catch (RuntimeException | Error x) {
      session.untrack(e);
      throw x;
    }
    return e;
  }

  /** GetLayout: the object's layout (the qLayout value) as JSON text. */
  public String getLayout() {
    return call("GetLayout", "[]");
  }

  /** Asynchronous {@link #getLayout()}. */
  public CompletableFuture<String> getLayoutAsync() {
    return callAsync("GetLayout", "[]");
  }

  /** On a Doc: CreateSessionObject with {@code propertiesJson} (a JSON object with qInfo ...). */
  public QixObject createSessionObject(String propertiesJson) {
    Objects.requireNonNull(propertiesJson, "propertiesJson");
    return callForObject("CreateSessionObject", "[" + propertiesJson + "]");
  }

  /** On a Doc: GetObject {@code id}. Throws {@link QixException.Code#NOT_FOUND} when there is none. */
  public QixObject getObject(String id) {
    Objects.requireNonNull(id, "id");
    return callForObject("GetObject", Json.arrayOf(id));
  }

  /** On a Doc: GetField {@code name} (Select, Clear ... are then calls on the field). */
  public QixObject getField(String name) {
    Objects.requireNonNull(name, "name");
    return callForObject("GetField", Json.arrayOf(name));
  }

  // ---------------------------------------------------------------------------------------------- events

  /**
   * Adds a "changed" listener: kept, and reachable, until removed or this object is closed. If this object's data
   * is not current (never fetched, or changed and not fetched since) and no fetch is in flight, the listener is
   * told once at once (see {@link ChangeListener}).
   */
  public void addChangeListener(ChangeListener listener) {
    subscriptions.add(listener, token -> withNative(o -> QixNative.objectOnChanged(o, token)), this::closedError);
  }

  /** Removes every registration of {@code listener}; false when it had none. */
  public boolean removeChangeListener(ChangeListener listener) {
    return subscriptions.remove(listener, this::removeNativeListener);
  }

  /** Adds a "closed" listener: kept, and reachable, until removed or this object is closed. */
  public void addCloseListener(CloseListener listener) {
    subscriptions.add(listener, token -> withNative(o -> QixNative.objectOnClosed(o, token)), this::closedError);
  }

  /** Removes every registration of {@code listener}; false when it had none. */
  public boolean removeCloseListener(CloseListener listener) {
    return subscriptions.remove(listener, this::removeNativeListener);
  }

  /**
   * Keeps the layout fresh: fetches it now unless it is valid (then delivers the current one), and again
   * after each change, bursts coalesced. {@code listener} gets each layout or the error of a fetch. One
   * watch per object: a new one replaces the previous one. Kept until {@link #unwatch()} or close.
   */
  public void watch(LayoutListener listener) {
    Objects.requireNonNull(listener, "listener");
    long token = Dispatch.register(new Dispatch.Watch(this, listener));
    long previous;
    try {
      synchronized (subscriptions) {
        if (subscriptions.isClosed()) {
          throw closedError();
        }
        withNative(o -> {
          QixNative.objectWatch(o, token);
          return null;
        });
        previous = watchToken;
        watchToken = token;
      }
    } catch (RuntimeException e) {
      Dispatch.unregister(token);
      throw e;
    }
    Dispatch.unregister(previous);
  }

  /** Stops watching (nothing when not watching). */
  public void unwatch() {
    long token;
    synchronized (subscriptions) {
      token = watchToken;
      watchToken = 0;
    }
    if (token == 0) {
      return;
    }
    Dispatch.unregister(token);
    lock.readLock().lock();
    try {
      if (nat != null) {
        nat.unwatch();
      }
    } finally {
      lock.readLock().unlock();
    }
  }

  private QixException closedError() {
    return new QixException(QixException.Code.CLOSED, "the object (handle " + handle + ") is closed");
  }

  private void removeNativeListener(long nativeId) {
    lock.readLock().lock();
    try {
      if (nat != null) {
        QixNative.objectRemoveListener(nat, nativeId);
      }
    } finally {
      lock.readLock().unlock();
    }
  }

  // ---------------------------------------------------------------------------------------------- close

  /**
   * Releases this handle: its listeners and watch are removed (a callback already running on another
   * thread finishes). Waits for blocking calls of other threads on this object to return. Idempotent.
   */
  @Override
  public void close() {
    List<Dispatch.Subscription> subs;
    long watch;
    synchronized (subscriptions) {
      subs = subscriptions.close();
      watch = watchToken;
      watchToken = 0;
    }
    lock.writeLock().lock();
    try {
      if (nat == null) {
        return;
      }
      nat.delete(); // qix_object_free: removes the listeners and the watch
      nat = null;
    } finally {
      lock.writeLock().unlock();
      Subscriptions.unregisterAll(subs);
      Dispatch.unregister(watch);
    }
    session.forget(this);
  }

  @Override
  public String toString() {
    return "QixObject[" + type + " " + handle + (genericId.isEmpty() ? "" : " " + genericId) + "]";
  }
}
