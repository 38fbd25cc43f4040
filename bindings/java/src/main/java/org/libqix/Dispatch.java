package org.libqix;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The one receiver of every libqix event of this binding (see qix_java.hpp for why there is only one).
 *
 * <p>Each registration (a call in flight, a listener, a watch, a traffic log) gets a token, and the token
 * maps to its target in {@link #TARGETS}. That map is what keeps listeners reachable while native code may
 * call them: an entry stays until its registration is removed (by the user, by close(), or by the call
 * completing). A native event whose token is gone is ignored, so a late callback after a removal is
 * harmless.
 *
 * <p>Threads: the methods run on libqix event threads, attached to the JVM once as daemon threads.
 * Nothing thrown by user code leaves them (see {@link #report}).
 */
final class Dispatch extends NativeEvents {
  /** A listener registered through a native listener id; the owner is the Session or QixObject. */
  static final class Subscription {
    final Object owner;
    final Object listener;
    long token; // set by the owner right after registering, before native code can see it
    long nativeId; // the C API's listener id

    Subscription(Object owner, Object listener) {
      this.owner = owner;
      this.listener = listener;
    }
  }

  /** A watch: the object and the listener of its layouts. */
  static final class Watch {
    final QixObject object;
    final LayoutListener listener;

    Watch(QixObject object, LayoutListener listener) {
      this.object = object;
      this.listener = listener;
    }
  }

  private static final ConcurrentHashMap<Long, Object> TARGETS = new ConcurrentHashMap<>();
  private static final AtomicLong NEXT_TOKEN = new AtomicLong();
  private static final AtomicInteger THREAD_NUMBER = new AtomicInteger();
  /** What the calling thread runs (one per thread; touched by that thread only). */
  private static final class CallbackState {
    /** Callbacks running now (nesting). */
    int depth;
    /** Whether the thread has been named. */
    boolean named;
    /** The session whose event the innermost callback delivers; null when not known (a traffic frame). */
    Session delivering;
    /** The innermost callback handed its session's events over (it may block now). */
    boolean handedOver;
    /** The run of results this thread delivers now (onRawAsciiRun), null when none. */
    String run;
    /** Where in {@link #run} the next record starts (its length once every record was taken). */
    int runAt;
  }

  private static final ThreadLocal<CallbackState> CALLBACK_STATE =
      ThreadLocal.withInitial(CallbackState::new);
  private static volatile ListenerExceptionHandler handler;

  /** The instance libqix calls; C++ holds a strong global reference to it, so it is never collected. */
  private static final Dispatch INSTANCE = install();

  private Dispatch() {}

  private static Dispatch install() {
    Dispatch d = new Dispatch();
    d.swigReleaseOwnership();
    QixNative.setEvents(d);
    return d;
  }

  /** Registers {@code target} and returns its token (never 0). */
  static long register(Object target) {
    long token = NEXT_TOKEN.incrementAndGet();
    TARGETS.put(token, target);
    return token;
  }

  /** Forgets a token; later events carrying it are ignored. 0 is ignored. */
  static void unregister(long token) {
    if (token != 0) {
      TARGETS.remove(token);
    }
  }

  /** Number of live registrations (for tests: listeners must not leak). */
  static int registrations() {
    return TARGETS.size() + CallTable.size();
  }

  /** True while the calling thread runs a libqix callback (a blocking wait there would stall its events). */
  static boolean inCallback() {
    return CALLBACK_STATE.get().depth > 0;
  }

  /**
   * Called before the binding blocks the calling thread (a blocking call, waiting for a future): true when it
   * may. Outside callbacks, always. Inside a callback that delivers a session's event, the session's later
   * events are first handed to another of libqix's threads (qix_session_hand_over_events), once per callback,
   * so that neither the answer waited for nor the session's other events wait for this thread; libqix then
   * allows the blocking call here. False (the caller fails with BUSY) when there is no session to hand over
   * (a traffic listener) or nothing was being delivered.
   */
  static boolean prepareToBlock() {
    CallbackState state = CALLBACK_STATE.get();
    if (state.depth == 0 || state.handedOver) {
      return true;
    }
    Session session = state.delivering;
    if (state.run != null && state.runAt < state.run.length()
        && QixNative.deferAsciiRun(state.run.substring(state.runAt))) {
      // The rest of the run goes along with the hand-over (the thread taking the session's events over
      // delivers it first): the answer waited for may be in it.
      state.runAt = state.run.length();
    }
    if (session != null && session.handOverEvents()) {
      state.handedOver = true;
      return true;
    }
    return false;
  }

  static void setHandler(ListenerExceptionHandler h) {
    handler = h;
  }

  /** Reports what user code threw on an event thread. Never throws. */
  static void report(String where, Throwable error) {
    ListenerExceptionHandler h = handler;
    if (h != null) {
      try {
        h.handle(where, error);
        return;
      } catch (Throwable t) {
        error.addSuppressed(t);
      }
    }
    try {
      System.err.println("libqix: " + where + " threw " + error);
      error.printStackTrace();
    } catch (Throwable ignored) {
      // Nothing is left to tell.
    }
  }

  private interface Action {
    void run() throws Throwable;
  }

  /** Runs a callback delivering an event of {@code session} (null: not known); reports what it throws. */
  private static void run(String where, Session session, Action action) {
    CallbackState state = enter();
    Session outerSession = state.delivering;
    boolean outerHandedOver = state.handedOver;
    state.delivering = session;
    state.handedOver = false;
    try {
      action.run();
    } catch (Throwable e) {
      report(where, e);
    } finally {
      state.delivering = outerSession;
      state.handedOver = outerHandedOver;
      state.depth--;
    }
  }

  /** Marks the calling thread as running a callback (undo with {@code state.depth--}); names it once. */
  private static CallbackState enter() {
    CallbackState state = CALLBACK_STATE.get();
    if (!state.named) {
      state.named = true;
      Thread t = Thread.currentThread();
      // A thread libqix started and SWIG attached gets a default name ("Thread-N"); say whose it is.
      if (t.getName().startsWith("Thread-")) {
        t.setName("libqix-events-" + THREAD_NUMBER.incrementAndGet());
      }
    }
    state.depth++;
    return state;
  }

  /**
   * {@code run("a call completion", session, () -> future.deliverRaw(text, from, to))} without a lambda per
   * call.
   */
  private static void deliverRaw(CallFuture<?> future, String text, int from, int to) {
    CallbackState state = enter();
    Session outerSession = state.delivering;
    boolean outerHandedOver = state.handedOver;
    state.delivering = future.session();
    state.handedOver = false;
    try {
      future.deliverRaw(text, from, to);
    } catch (Throwable e) {
      report("a call completion", e);
    } finally {
      state.delivering = outerSession;
      state.handedOver = outerHandedOver;
      state.depth--;
    }
  }

  @Override
  public void onResult(long token, NativeResult result) {
    CallFuture<?> future = CallTable.take(token);
    if (future != null) {
      run("a call completion", future.session(), () -> future.deliver(result));
    }
  }

  @Override
  public void onRawResult(long token, String raw) {
    CallFuture<?> future = CallTable.take(token);
    if (future != null) {
      deliverRaw(future, raw, 0, raw.length());
    }
  }

  @Override
  public void onRawAscii(long token, String raw) {
    ALONE.incrementAndGet();
    CallFuture<?> future = CallTable.take(token);
    if (future != null) {
      deliverRaw(future, raw, 0, raw.length());
    }
  }

  /**
   * The ASCII results of one run of libqix's callbacks, in one upcall (qix_java.hpp, on_raw_ascii_run): each
   * as its token and its text's length in decimal, each followed by a space, then the text. Delivered in
   * order, each as {@link #onRawAscii} would.
   */
  @Override
  public void onRawAsciiRun(String records) {
    RUNS.incrementAndGet();
    CallbackState state = CALLBACK_STATE.get();
    String outerRun = state.run;
    int outerAt = state.runAt;
    // The position lives in the thread's state: a stage that blocks (prepareToBlock) hands the records not
    // delivered yet over with the session's events, and this loop ends after its record.
    state.run = records;
    state.runAt = 0;
    try {
      int n = records.length();
      while (state.runAt < n) {
        // The token and the length (decimal, each ended by a space) read in one pass, rather than
        // found with indexOf and read with Long.parseLong, whose Character.digit is compiled on the
        // assumption that no non-Latin-1 character data is loaded: the first such text anywhere in the
        // program throws the compiled form of this loop away (to be compiled again).
        // A call's token is negative (CallTable).
        int at = state.runAt;
        boolean negative = records.charAt(at) == '-';
        if (negative) {
          at++;
        }
        long token = 0;
        char c;
        while ((c = records.charAt(at++)) != ' ') {
          token = token * 10 + (c - '0');
        }
        if (negative) {
          token = -token;
        }
        int length = 0;
        while ((c = records.charAt(at++)) != ' ') {
          length = length * 10 + (c - '0');
        }
        int start = at;
        int end = start + length;
        state.runAt = end;
        RUN_RESULTS.incrementAndGet(); // before the completion, which may end a test's wait
        CallFuture<?> future = CallTable.take(token);
        if (future != null) {
          deliverRaw(future, records, start, end); // decoded where it lies (ResultDecoder's range form)
        }
      }
    } finally {
      state.run = outerRun;
      state.runAt = outerAt;
    }
  }

  /** Runs of ASCII results delivered in one upcall, the results in them, and those delivered alone. */
  private static final AtomicLong RUNS = new AtomicLong();
  private static final AtomicLong RUN_RESULTS = new AtomicLong();
  private static final AtomicLong ALONE = new AtomicLong();

  /**
   * {runs, results in them, results alone} so far (for tests: the typed API's answers of a burst come in
   * one upcall).
   */
  static long[] runCounts() {
    return new long[] {RUNS.get(), RUN_RESULTS.get(), ALONE.get()};
  }

  @Override
  public void onLayout(long token, NativeResult result) {
    Object target = TARGETS.get(token);
    if (target instanceof Watch) {
      Watch w = (Watch) target;
      if (result.ok()) {
        String layout = result.json();
        run("LayoutListener.onLayout", w.object.session(), () -> w.listener.onLayout(w.object, layout));
      } else {
        QixException error = QixException.of(result.error());
        run("LayoutListener.onError", w.object.session(), () -> w.listener.onError(w.object, error));
      }
    }
  }

  @Override
  public void onChanged(long token) {
    Object target = TARGETS.get(token);
    if (target instanceof Subscription && ((Subscription) target).listener instanceof ChangeListener) {
      Subscription s = (Subscription) target;
      QixObject o = (QixObject) s.owner;
      run("ChangeListener.onChanged", o.session(), () -> ((ChangeListener) s.listener).onChanged(o));
    }
  }

  @Override
  public void onClosed(long token) {
    Object target = TARGETS.get(token);
    if (target instanceof Subscription && ((Subscription) target).listener instanceof CloseListener) {
      Subscription s = (Subscription) target;
      QixObject o = (QixObject) s.owner;
      run("CloseListener.onClosed", o.session(), () -> ((CloseListener) s.listener).onClosed(o));
    }
  }

  @Override
  public void onState(long token, int state, int closeCode, String reason) {
    Object target = TARGETS.get(token);
    if (target instanceof Subscription && ((Subscription) target).listener instanceof StateListener) {
      Subscription s = (Subscription) target;
      SessionState st = SessionState.of(state);
      run("StateListener.onStateChanged", (Session) s.owner,
          () -> ((StateListener) s.listener).onStateChanged((Session) s.owner, st, closeCode, reason));
    }
  }

  @Override
  public void onNotification(long token, String method, String paramsJson) {
    Object target = TARGETS.get(token);
    if (target instanceof Subscription && ((Subscription) target).listener instanceof NotificationListener) {
      Subscription s = (Subscription) target;
      run("NotificationListener.onNotification", (Session) s.owner,
          () -> ((NotificationListener) s.listener).onNotification((Session) s.owner, method, paramsJson));
    }
  }

  @Override
  public void onTraffic(long token, boolean sent, String frame) {
    Object target = TARGETS.get(token);
    if (target instanceof TrafficListener) {
      TrafficListener l = (TrafficListener) target;
      run("TrafficListener.onFrame", null, () -> l.onFrame(sent, frame));
    }
  }

  @Override
  public boolean onRow(long token, String rowJson, long index) {
    Object target = TARGETS.get(token);
    if (!(target instanceof Extraction)) {
      return false; // closed meanwhile: stop
    }
    Extraction<?> e = (Extraction<?>) target;
    boolean[] goOn = new boolean[1];
    run("an extraction's row", null, () -> goOn[0] = e.offer(rowJson));
    return goOn[0];
  }

  @Override
  public void onExtractDone(long token, int status, long rows, NativeError error) {
    Object target = TARGETS.remove(token);
    if (target instanceof Extraction) {
      Extraction<?> e = (Extraction<?>) target;
      QixException failure = status == 0 ? null : QixException.of(error);
      run("the end of an extraction", null, () -> e.finish(rows, failure));
    }
  }

  /** Makes sure the instance is installed (class initialization does it). */
  static void init() {
    if (INSTANCE == null) {
      throw new IllegalStateException("libqix: the event dispatcher is not installed");
    }
  }
}
