package org.libqix;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.libqix.api.Doc;
import org.libqix.api.Global;

/**
 * One WebSocket connection to one engine app (a QIX session).
 *
 * <pre>{@code
 * try (Session session = Session.open(SessionOptions.forUrl("ws://localhost:9076/app/demo"))) {
 *   Doc doc = session.openDoc("demo");                           // typed: org.libqix.api
 *   System.out.println(doc.evaluate("Sum(Sales)"));
 *   System.out.println(doc.call("Evaluate", "[\"Sum(Sales)\"]")); // by name, JSON text
 * }
 * }</pre>
 *
 * <p><b>Calls.</b> Every Engine API method is reached by name, with params as JSON text (a positional array
 * or a named object) and the result as JSON text, unwrapped as enigma.js does ({@code qReturn}, else the
 * single out value, else the whole result). Each call exists as a blocking method and as an asynchronous
 * one returning a {@link CompletableFuture}; cancelling the future cancels the call (the engine is sent a
 * CancelRequest). Calls of this class go to the engine's Global object; {@link #global()} gives it as a
 * typed object, and objects ({@link QixObject}) take the same calls. The typed API ({@code org.libqix.api}:
 * {@link #global()}, {@link #openDoc}) has every method of the Engine API specification with typed
 * parameters and results.
 *
 * <p><b>Lifetime.</b> {@link #close()} closes the connection: pending calls fail with {@link
 * QixException.Code#CLOSED}, and every object of the session is closed. Closing twice is harmless. There
 * are no finalizers; a session that is never closed stays open until its context is closed.
 *
 * <p><b>Threads.</b> Thread-safe: any thread may call any method at any time, also concurrently with
 * {@link #close()}. Listeners and future completions run on the context's event threads (or its I/O thread:
 * the option {@code events.inline}), one at a time per session. A blocking call or a wait for a future not
 * done yet made inside one of them first hands the session's later events to another of libqix's threads
 * (qix_session_hand_over_events, once per callback), so that the answer waited for, and the session's
 * other events, are delivered meanwhile (beside the rest of that callback, no longer one at a time with
 * it). Where there is no session to hand over (a {@link TrafficListener}), it fails at once with {@link
 * QixException.Code#BUSY} instead of deadlocking; so does {@link Context#close()} in any callback. Chaining a
 * dependent stage keeps the order and costs no thread.
 */
public final class Session implements AutoCloseable {
  private final Context context;
  private final long trafficToken;
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private NativeSession nat; // guarded by lock; null once closed

  private final Object childrenLock = new Object();

  private QixObject globalForCalls; // guarded by childrenLock; see callTarget()
  private Global typedGlobal; // guarded by childrenLock; see global()
  private final Set<QixObject> children = new HashSet<>(); // guarded by childrenLock
  private boolean closing; // guarded by childrenLock
  private final Subscriptions subscriptions = new Subscriptions(this);
  private final Set<Extraction<?>> extractions = ConcurrentHashMap.newKeySet();

  Session(Context context, NativeSession nat, long trafficToken) {
    this.context = context;
    this.nat = nat;
    this.trafficToken = trafficToken;
  }

  /** Opens a session on {@link Context#shared()} and waits until it is connected. */
  public static Session open(SessionOptions options) {
    return Context.shared().open(options);
  }

  /** Opens a session on {@link Context#shared()}, waiting at most {@code timeout} (see {@link Context#open}). */
  public static Session open(SessionOptions options, Duration timeout) {
    return Context.shared().open(options, timeout);
  }

  /** The context the session runs on. */
  public Context context() {
    return context;
  }

  // ---------------------------------------------------------------------------------------------- natives

  interface NativeFn<T> {
    T apply(NativeSession s);
  }

  /** Runs {@code fn} on the native session, which stays valid meanwhile; CLOSED once closed. */
  <T> T withNative(NativeFn<T> fn) {
    lock.readLock().lock();
    try {
      if (nat == null) {
        throw closedException();
      }
      return fn.apply(nat);
    } finally {
      lock.readLock().unlock();
    }
  }

  /**
   * Hands this session's later events to another of libqix's threads while the callback now running on the
   * calling thread goes on (qix_session_hand_over_events; see {@link Dispatch#prepareToBlock}). False when
   * none of its events was being delivered, or the session is closed.
   */
  boolean handOverEvents() {
    lock.readLock().lock();
    try {
      return nat != null && nat.handOverEvents();
    } catch (QixException e) {
      return false; // not a session whose events libqix's threads deliver
    } finally {
      lock.readLock().unlock();
    }
  }

  static QixException closedException() {
    return new QixException(QixException.Code.CLOSED, "the session is closed");
  }

  /** Adopts a native object into a QixObject of this session (closed at once when the session is closing). */
  QixObject adopt(NativeObject no) {
    QixObject o = new QixObject(this, no);
    synchronized (childrenLock) {
      if (!closing) {
        children.add(o);
        return o;
      }
    }
    o.close();
    return o;
  }

  void forget(QixObject o) {
    synchronized (childrenLock) {
      children.remove(o);
    }
  }

  /** Cancels a pending call by request id; nothing when it is not pending or the session is closed. */
  void cancelRequest(long id) {
    if (id <= 0) {
      return;
    }
    lock.readLock().lock();
    try {
      if (nat != null) {
        nat.cancel(id);
      }
    } catch (QixException e) {
      // Not pending any more: it completed meanwhile.
    } finally {
      lock.readLock().unlock();
    }
  }

  // ---------------------------------------------------------------------------------------------- state

  /** The state: {@link SessionState#CONNECTED} until the connection closes, then {@link SessionState#CLOSED}. */
  public SessionState state() {
    lock.readLock().lock();
    try {
      return nat == null ? SessionState.CLOSED : SessionState.of(nat.state());
    } finally {
      lock.readLock().unlock();
    }
  }

  /** True once the connection is closed (by {@link #close()}, the engine or a failure). */
  public boolean isClosed() {
    return state() == SessionState.CLOSED;
  }

  /** The WebSocket close code once the connection is closed (1000 normal, 1006 no close frame ...), else 0. */
  public int closeCode() {
    lock.readLock().lock();
    try {
      return nat == null ? 1000 : QixNative.sessionCloseCode(nat);
    } finally {
      lock.readLock().unlock();
    }
  }

  /** Why the connection closed, once it is closed; else "". */
  public String closeReason() {
    lock.readLock().lock();
    try {
      return nat == null ? "closed by the client" : QixNative.sessionCloseReason(nat);
    } finally {
      lock.readLock().unlock();
    }
  }

  /** Calls sent and not answered yet (0 once closed). */
  public long pendingCalls() {
    lock.readLock().lock();
    try {
      return nat == null ? 0 : nat.pendingCalls();
    } finally {
      lock.readLock().unlock();
    }
  }

  // ---------------------------------------------------------------------------------------------- objects

  /** A new handle on the engine's Global object (handle -1), untyped. */
  private QixObject newGlobal() {
    return adopt(withNative(NativeSession::global));
  }

  /**
   * The engine's Global object (handle -1), typed: every Global method of the Engine API ({@link
   * org.libqix.api.Global}; {@code global().object()} is the untyped {@link QixObject}). One handle per session,
   * made on first use and closed with the session; closing it is allowed (the next call makes another).
   */
  public Global global() {
    synchronized (childrenLock) {
      if (typedGlobal != null && !typedGlobal.isClosed()) {
        return typedGlobal;
      }
    }
    Global fresh = Global.of(newGlobal());
    synchronized (childrenLock) {
      if (closing) {
        fresh.close();
        throw closedException();
      }
      if (typedGlobal == null || typedGlobal.isClosed()) {
        typedGlobal = fresh;
        return fresh;
      }
      fresh.close();
      return typedGlobal;
    }
  }

  /**
   * Opens the app {@code appId} (OpenDoc with the one parameter: {@code ["appId"]}) and returns its Doc, typed
   * ({@code openDoc(id).object()} is the untyped {@link QixObject}). A session opens at most one app. {@code
   * global().openDoc(...)} takes OpenDoc's other parameters.
   *
   * @throws QixException {@link QixException.Code#ENGINE} with {@code LOCERR_APP_NOT_FOUND} (1003) for a
   *     missing app, {@code LOCERR_APP_ALREADY_OPEN} (1002) when one is open ...
   */
  public Doc openDoc(String appId) {
    Objects.requireNonNull(appId, "appId");
    return Doc.of(callForObject("OpenDoc", Json.arrayOf(appId)));
  }

  /** Asynchronous {@link #openDoc(String)}. */
  public CompletableFuture<Doc> openDocAsync(String appId) {
    Objects.requireNonNull(appId, "appId");
    try {
      return callTarget().callAsync("OpenDoc", Json.arrayOf(appId), CallOptions.DEFAULT,
          (result, object) -> object == null ? null : Doc.of(object));
    } catch (QixException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  // ---------------------------------------------------------------------------------------------- calls

  /** Blocking call of {@code method} on the Global object; returns the result as JSON text. */
  public String call(String method, String paramsJson) {
    return call(method, paramsJson, CallOptions.DEFAULT);
  }

  /**
   * Blocking call of {@code method} on the Global object with per-call options (delta, timeout): the same
   * as {@link QixObject#call(String, String, CallOptions)} on the Global object.
   *
   * @throws QixException with the engine's error ({@link QixException.Code#ENGINE}), {@link
   *     QixException.Code#TIMEOUT}, {@link QixException.Code#CLOSED}, {@link QixException.Code#INVALID_ARGUMENT}
   *     for malformed params, {@link QixException.Code#BUSY} in a libqix callback with no
   *     session to hand over (see Threads in the class comment) ...
   */
  public String call(String method, String paramsJson, CallOptions options) {
    check(method, paramsJson, options);
    return callTarget().call(method, paramsJson, options);
  }

  /** Blocking call of a Global method that returns an object reference (e.g. CreateSessionApp). */
  public QixObject callForObject(String method, String paramsJson) {
    return callForObject(method, paramsJson, CallOptions.DEFAULT);
  }

  /**
   * Blocking call of a Global method that returns an object reference, with per-call options.
   *
   * @throws QixException {@link QixException.Code#NOT_FOUND} when the result refers to no object, and as
   *     {@link #call(String, String, CallOptions)}
   */
  public QixObject callForObject(String method, String paramsJson, CallOptions options) {
    check(method, paramsJson, options);
    return callTarget().callForObject(method, paramsJson, options);
  }

  /** Asynchronous call of {@code method} on the Global object: the future gives the result as JSON text. */
  public CompletableFuture<String> callAsync(String method, String paramsJson) {
    return callAsync(method, paramsJson, CallOptions.DEFAULT);
  }

  /**
   * Asynchronous call on the Global object with per-call options. Never throws for libqix failures: the
   * future completes exceptionally with a {@link QixException} instead (also for malformed params or a
   * closed session). {@code cancel(...)} on the future cancels the call (CancelRequest).
   */
  public CompletableFuture<String> callAsync(String method, String paramsJson, CallOptions options) {
    check(method, paramsJson, options);
    try {
      return callTarget().callAsync(method, paramsJson, options);
    } catch (QixException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** Asynchronous {@link #callForObject(String, String, CallOptions)}. */
  public CompletableFuture<QixObject> callForObjectAsync(String method, String paramsJson, CallOptions options) {
    check(method, paramsJson, options);
    try {
      return callTarget().callForObjectAsync(method, paramsJson, options);
    } catch (QixException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /**
   * The Global object the session's calls go through: one handle, created on first use and closed with the
   * session. CLOSED ("the session is closed") once the session is closing.
   */
  private QixObject callTarget() {
    synchronized (childrenLock) {
      if (closing) {
        throw closedException();
      }
      if (globalForCalls != null) {
        return globalForCalls;
      }
    }
    QixObject fresh = newGlobal();
    synchronized (childrenLock) {
      if (globalForCalls == null && !closing) {
        globalForCalls = fresh;
        return fresh;
      }
    }
    fresh.close();
    return callTarget();
  }

  /** Registers an extraction (its token, and as running on this session); returns the token. */
  long track(Extraction<?> e) {
    long token = Dispatch.register(e);
    e.setToken(token);
    extractions.add(e);
    return token;
  }

  /** An extraction ended (or never started). */
  void untrack(Extraction<?> e) {
    extractions.remove(e);
    Dispatch.unregister(e.token());
  }

  /** Registers a call's future as in flight on this session (CallTable); returns its token. */
  long track(CallFuture<?> f) {
    long token = CallTable.add(f);
    f.setToken(token);
    return token;
  }

  static void check(String method, String paramsJson, CallOptions options) {
    Objects.requireNonNull(method, "method");
    Objects.requireNonNull(paramsJson, "paramsJson");
    Objects.requireNonNull(options, "options");
  }

  // ---------------------------------------------------------------------------------------------- listeners

  /**
   * Adds a listener of the session's state changes. It is kept (and reachable) until removed or the session
   * is closed.
   */
  public void addStateListener(StateListener listener) {
    subscriptions.add(listener, token -> withNative(ns -> QixNative.sessionOnState(ns, token)), Session::closedException);
  }

  /** Removes every registration of {@code listener}; false when it had none. */
  public boolean removeStateListener(StateListener listener) {
    return subscriptions.remove(listener, this::removeNativeListener);
  }

  /**
   * Adds a listener of every notification of the session; the ones already received (the session's
   * history) are delivered to it first. Kept until removed or the session is closed.
   */
  public void addNotificationListener(NotificationListener listener) {
    subscriptions.add(listener, token -> withNative(ns -> QixNative.sessionOnNotification(ns, "", true, token)),
        Session::closedException);
  }

  /** Removes every registration of {@code listener}; false when it had none. */
  public boolean removeNotificationListener(NotificationListener listener) {
    return subscriptions.remove(listener, this::removeNativeListener);
  }

  private void removeNativeListener(long nativeId) {
    lock.readLock().lock();
    try {
      if (nat != null) {
        QixNative.sessionRemoveListener(nat, nativeId);
      }
    } finally {
      lock.readLock().unlock();
    }
  }

  // ---------------------------------------------------------------------------------------------- close

  /**
   * Closes the connection (WebSocket close 1000) and releases the session: pending calls fail with {@link
   * QixException.Code#CLOSED}, every object of the session is closed, every listener is removed. Waits for
   * blocking calls of other threads on this session to return (they fail at once). Idempotent; allowed on
   * an event thread (e.g. from a listener).
   */
  @Override
  public void close() {
    // An extraction's event thread may wait for its reader (back-pressure): wake it first, or nothing of this
    // session would be delivered any more (and the wait for the close below would not end).
    QixException closed = new QixException(QixException.Code.CLOSED, "the session was closed");
    for (Extraction<?> e : extractions) {
      e.abort(closed);
    }
    lock.readLock().lock();
    try {
      if (nat == null) {
        return;
      }
      nat.close(); // pending calls complete with CLOSED; blocking calls return
    } finally {
      lock.readLock().unlock();
    }
    List<QixObject> objects;
    synchronized (childrenLock) {
      closing = true;
      objects = new ArrayList<>(children);
      children.clear();
    }
    for (QixObject o : objects) {
      o.close();
    }
    // Let libqix deliver what it has for the pending calls (their answers, or CLOSED) before the session is
    // released: its one "closed and drained" signal (the close handshake is bounded by the session's
    // handshake and keep-alive timeouts). Not on an event thread, where those deliveries queue behind the
    // caller: there the calls still pending are settled below.
    if (!Dispatch.inCallback()) {
      lock.readLock().lock();
      try {
        if (nat != null) {
          nat.waitClosed(-1);
        }
      } finally {
        lock.readLock().unlock();
      }
    }
    List<Dispatch.Subscription> subs = subscriptions.close();
    lock.writeLock().lock();
    try {
      if (nat == null) {
        return;
      }
      nat.delete(); // removes the native listeners; calls still pending complete with CLOSED
      nat = null;
    } finally {
      lock.writeLock().unlock();
    }
    Subscriptions.unregisterAll(subs);
    Dispatch.unregister(trafficToken);
    // Every call completes exactly once: libqix answers the pending ones with CLOSED (above), but one whose
    // outcome is still on its way once the session is released is settled here, with the same outcome.
    for (CallFuture<?> f : CallTable.takeAll(this)) {
      f.completeExceptionally(new QixException(QixException.Code.CLOSED, "the session was closed"));
    }
    // Likewise every extraction ends exactly once.
    for (Extraction<?> e : new ArrayList<>(extractions)) {
      e.finish(-1, closed);
    }
    context.forget(this);
  }

  @Override
  public String toString() {
    return "Session[" + state() + "]";
  }
}
