package org.libqix;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The threads that a group of sessions shares: I/O threads (sockets, frame decoding, timers; never user
 * code) and event threads (every listener, and the completion of every future, of its sessions). Thousands
 * of sessions can share one context.
 *
 * <p><b>Threads and the JVM.</b> An event thread is started by libqix, not by Java. At its first callback it
 * is attached to the JVM once, as a daemon thread (so it never keeps the JVM alive), named {@code
 * libqix-events-N}, and stays attached; it is detached when it ends, that is when its context is closed. So
 * {@link Thread#currentThread()} in a listener is the same Thread object for every callback on that thread.
 * Callbacks of one session run one at a time, in the order their frames arrived.
 *
 * <p><b>Lifetime.</b> {@link #close()} closes the sessions opened on the context, then stops its threads.
 * {@link #shared()} is a process-wide context that is never closed. There are no finalizers: close what you
 * open (try-with-resources).
 *
 * <p>Thread-safe.
 */
public final class Context implements AutoCloseable {
  private static final Object SHARED_LOCK = new Object();
  private static Context shared;

  private final boolean isShared;
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private final Set<Session> sessions = ConcurrentHashMap.newKeySet();
  private NativeContext nat; // guarded by lock; null once closed

  /** A context with libqix's defaults: 1 I/O thread and 2 event threads. */
  public Context() {
    this(0, 0);
  }

  /**
   * A context with {@code ioThreads} I/O threads and {@code eventThreads} event threads (0 = the default: 1
   * and 2). Throws {@link QixException} ({@link QixException.Code#INVALID_ARGUMENT}) for negative counts.
   */
  public Context(int ioThreads, int eventThreads) {
    this(ioThreads, eventThreads, false);
  }

  private Context(int ioThreads, int eventThreads, boolean isShared) {
    Dispatch.init();
    this.nat = new NativeContext(ioThreads, eventThreads);
    this.isShared = isShared;
  }

  /**
   * The process-wide context (1 I/O thread, 2 event threads), created on first use and never closed:
   * {@link #close()} does nothing on it. Used by {@link Session#open(SessionOptions)}.
   *
   * <p>(It is a context of this binding, not the C API's {@code qix_context_default()}: that one is a static
   * C++ object whose threads are joined while the process exits, which an attached JVM thread may not
   * survive.)
   */
  public static Context shared() {
    synchronized (SHARED_LOCK) {
      if (shared == null) {
        shared = new Context(0, 0, true);
      }
      return shared;
    }
  }

  /** Opens a session on this context and waits until it is connected (as long as its timeouts allow). */
  public Session open(SessionOptions options) {
    return open(options, Duration.ZERO);
  }

  /**
   * Opens a session on this context and waits until it is connected, at most {@code timeout} ({@link
   * Duration#ZERO}: as long as the connect and handshake timeouts allow).
   *
   * @throws QixException {@link QixException.Code#TIMEOUT}, {@link QixException.Code#NETWORK}, {@link
   *     QixException.Code#HTTP} (e.g. 401), {@link QixException.Code#TLS}, {@link QixException.Code#CLOSED}
   *     when this context is closed, {@link QixException.Code#BUSY} in a libqix callback with no session
   *     to hand over (a traffic listener; see {@link Session}, Threads) ...
   */
  public Session open(SessionOptions options, Duration timeout) {
    Objects.requireNonNull(options, "options");
    Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative()) {
      throw new IllegalArgumentException("negative timeout: " + timeout);
    }
    NativeOptions no = options.toNative();
    long trafficToken = 0;
    lock.readLock().lock();
    try {
      if (nat == null) {
        throw new QixException(QixException.Code.CLOSED, "the context is closed");
      }
      TrafficListener traffic = options.traffic();
      if (traffic != null) {
        trafficToken = Dispatch.register(traffic);
        QixNative.optionsSetTraffic(no, trafficToken);
      }
      Dispatch.prepareToBlock(); // in a callback, hands its session over first (else libqix refuses: BUSY)
      NativeSession ns = new NativeSession(no, toMillis(timeout), nat);
      Session s = new Session(this, ns, trafficToken);
      sessions.add(s);
      return s;
    } catch (RuntimeException | Error e) {
      Dispatch.unregister(trafficToken);
      throw e;
    } finally {
      lock.readLock().unlock();
      no.delete();
    }
  }

  /**
   * How long this context's I/O thread may poll its sockets before it sleeps, in microseconds (0 to
   * 1,000,000; 0: never): it polls only while answers have been coming that fast (a call at a time to a
   * nearby engine), which shortens each round trip for a core kept busy meanwhile. The default is 50, or the
   * environment variable {@code QIX_IO_SPIN_US} (read when a context is made). Any thread; takes effect at
   * the I/O thread's next wait ({@code qix_context_set_io_spin}, docs/c-api.md, Threads).
   *
   * @throws QixException {@link QixException.Code#INVALID_ARGUMENT} out of range, {@link
   *     QixException.Code#CLOSED} when this context is closed
   */
  public void setIoSpin(int microseconds) {
    lock.readLock().lock();
    try {
      if (nat == null) {
        throw new QixException(QixException.Code.CLOSED, "the context is closed");
      }
      nat.setIoSpin(microseconds);
    } finally {
      lock.readLock().unlock();
    }
  }

  void forget(Session s) {
    sessions.remove(s);
  }

  /** True once {@link #close()} ran (never for {@link #shared()}). */
  public boolean isClosed() {
    lock.readLock().lock();
    try {
      return nat == null;
    } finally {
      lock.readLock().unlock();
    }
  }

  /**
   * Closes every session opened on this context, then stops its threads; an event thread detaches from the
   * JVM as it ends. A session's threads may outlive this call for as long as its connection takes to close.
   * Idempotent. Does nothing on {@link #shared()}.
   *
   * @throws QixException {@link QixException.Code#BUSY} when called on a libqix event thread (a context's
   *     threads cannot be stopped from one of them)
   */
  @Override
  public void close() {
    if (isShared) {
      return;
    }
    if (Dispatch.inCallback()) {
      throw new QixException(QixException.Code.BUSY, "a context cannot be closed from a libqix callback");
    }
    lock.writeLock().lock();
    try {
      if (nat == null) {
        return;
      }
      List<Session> open = new ArrayList<>(sessions);
      for (Session s : open) {
        s.close();
      }
      sessions.clear();
      nat.delete();
      nat = null;
    } finally {
      lock.writeLock().unlock();
    }
  }

  @Override
  public String toString() {
    return isShared ? "Context[shared]" : isClosed() ? "Context[closed]" : "Context[open]";
  }

  /** A duration in milliseconds, rounded up, at most Integer.MAX_VALUE. */
  static int toMillis(Duration d) {
    if (d.isZero()) {
      return 0;
    }
    long ms;
    try {
      ms = d.toMillis();
      if (Duration.ofMillis(ms).compareTo(d) < 0) {
        ms++;
      }
    } catch (ArithmeticException e) {
      return Integer.MAX_VALUE;
    }
    return (int) Math.min(ms, Integer.MAX_VALUE);
  }
}
