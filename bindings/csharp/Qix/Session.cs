using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Qix.Internal;
using Qix.Interop;

namespace Qix;

/// <summary>
/// One WebSocket connection to one engine app (Qlik Sense, Qlik Cloud, Qlik Associative Engine or the
/// bundled simulator).
/// </summary>
/// <remarks>
/// <para><b>Lifetime.</b> A session is a connection: it stays alive (it is referenced by the library, like a
/// running timer) until it is disposed, so its events keep coming even when the program holds no reference
/// to it. Dispose it (or <c>await using</c> it). Disposing closes the connection, fails the calls still
/// pending with <see cref="QixStatus.Closed"/> and disposes every <see cref="QixObject"/> of the session;
/// events already on their way (the Closed it causes, say) may still be raised. Dispose is idempotent.
/// Nothing relies on finalizers.</para>
/// <para><b>Threads.</b> Every member is thread-safe. Calls' tasks complete on libqix's event thread and run
/// their continuations there (<see cref="SessionOptions.AllowSynchronousContinuations"/>, on by default: a
/// continuation still running after 10–20 ms, one that blocks, is left to go on while the session's later
/// answers are handed to another event thread; with the option false they complete on the thread pool; see
/// docs/csharp.md). Events are raised on the thread pool, never on libqix's threads; the events of one
/// session (including its objects' events) are raised one at a time, in the order the engine sent them. A
/// handler that throws is reported through <see cref="QixDiagnostics.HandlerException"/> and never ends the
/// process.</para>
/// </remarks>
public sealed class Session : IDisposable, IAsyncDisposable
{
    // Open sessions are rooted here until disposed: native code may call their listeners at any time.
    private static readonly ConcurrentDictionary<Session, byte> s_open = new();

    private readonly NativeRef<NativeSession> _native;
    private readonly object _gate = new();
    private readonly HashSet<QixObject> _objects = new();
    private readonly Context? _context;
    private readonly List<NotificationEventArgs> _history = new();
    private readonly SessionEvents _listener;
    private List<IDisposable>? _heldUntilClosed;
    private int _nativeFreed;
    private Qix.Api.Global? _global;
    private EventHandler<SessionStateChangedEventArgs>? _stateChanged;
    private EventHandler<SessionStateChangedEventArgs>? _closed;
    private EventHandler<NotificationEventArgs>? _notification;
    private int _disposed;

    private Session(NativeSession native, Context? context, bool synchronousContinuations)
    {
        _native = new NativeRef<NativeSession>(native, nameof(Session));
        _context = context;
        SynchronousContinuations = synchronousContinuations;
        // Registered at once and for the session's whole life: it replays the notifications received so
        // far, and its Closed tells Dispose when the native session may be freed.
        _listener = new SessionEvents(this);
        try
        {
            native.AddListener(_listener);
        }
        catch
        {
            native.Dispose();
            throw;
        }
        s_open[this] = 0;
    }

    /// <summary>Notifications kept for replay to new NotificationReceived subscribers.</summary>
    private const int NotificationHistoryLimit = 256;

    internal EventQueue Events { get; } = new();

    /// <summary>
    /// The calls' tasks complete on libqix's event thread, with their continuations run there
    /// (<see cref="SessionOptions.AllowSynchronousContinuations"/>), instead of on the thread pool.
    /// </summary>
    internal bool SynchronousContinuations { get; }

    private int _pendingCalls;

    /// <summary>Calls of this session waiting for their answer (asynchronous and blocking ones).</summary>
    internal int CallsAwaitingAnswer => Volatile.Read(ref _pendingCalls);

    /// <summary>
    /// A call of this session is about to be issued: its answer will come through this session's event thread,
    /// so an extraction's row callback must not block waiting for room meanwhile (see <see cref="Extraction"/>).
    /// </summary>
    internal void CallStarted()
    {
        Interlocked.Increment(ref _pendingCalls);
        Extraction.WakeProducers(this);
    }

    /// <summary>The call counted by <see cref="CallStarted"/> has its answer (or was never issued).</summary>
    internal void CallEnded() => Interlocked.Decrement(ref _pendingCalls);

    /// <summary>
    /// Opens a session and waits until it is connected. Throws <see cref="QixException"/> on failure (Network,
    /// Http, Tls, Timeout ...).
    /// </summary>
    /// <param name="options">The settings (copied: they may be disposed or changed afterwards).</param>
    /// <param name="context">The threads to run on; null = the process-wide default context.</param>
    /// <param name="timeout">How long to wait; null = as long as the connect and handshake timeouts allow.</param>
    public static Session Open(SessionOptions options, Context? context = null, TimeSpan? timeout = null)
    {
        if (options == null) throw new ArgumentNullException(nameof(options));
        Calls.BeforeBlocking();
        int timeoutMs = timeout.HasValue ? Math.Max(1, (int)Math.Min(int.MaxValue, timeout.Value.TotalMilliseconds)) : 0;
        bool synchronous = options.AllowSynchronousContinuations;
        using var opts = options.Acquire();
        if (context == null) return new Session(new NativeSession(opts.Native, timeoutMs), null, synchronous);
        using var ctx = context.Acquire();
        return new Session(new NativeSession(opts.Native, timeoutMs, ctx.Native), context, synchronous);
    }

    /// <summary>Opens a session to the WebSocket URL <paramref name="url"/> (e.g. <c>ws://localhost:9076/app/demo</c>).</summary>
    public static Task<Session> OpenAsync(string url, CancellationToken cancellationToken = default)
    {
        if (url == null) throw new ArgumentNullException(nameof(url));
        var options = new SessionOptions(url);
        Task<Session> task = OpenAsync(options, null, null, cancellationToken);
        task.ContinueWith(_ => options.Dispose(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously,
                          TaskScheduler.Default);
        return task;
    }

    /// <summary>Opens a session asynchronously (see <see cref="Open"/>).</summary>
    public static Task<Session> OpenAsync(SessionOptions options, CancellationToken cancellationToken = default) =>
        OpenAsync(options, null, null, cancellationToken);

    /// <summary>
    /// Opens a session asynchronously (see <see cref="Open"/>). Cancelling <paramref name="cancellationToken"/>
    /// cancels the task at once; a connection that still completes afterwards is disposed.
    /// </summary>
    public static Task<Session> OpenAsync(SessionOptions options, Context? context, TimeSpan? timeout = null,
                                          CancellationToken cancellationToken = default)
    {
        if (options == null) throw new ArgumentNullException(nameof(options));
        if (cancellationToken.IsCancellationRequested) return Task.FromCanceled<Session>(cancellationToken);
        // The C facade's open is blocking: it runs on a dedicated thread, never on a pool thread's time.
        Task<Session> open = Task.Factory.StartNew(() => Open(options, context, timeout), CancellationToken.None,
                                                   TaskCreationOptions.LongRunning, TaskScheduler.Default);
        var tcs = new TaskCompletionSource<Session>(TaskCreationOptions.RunContinuationsAsynchronously);
        CancellationTokenRegistration registration =
            cancellationToken.CanBeCanceled ? cancellationToken.Register(() => tcs.TrySetCanceled(cancellationToken))
                                            : default;
        open.ContinueWith(t =>
        {
            registration.Dispose();
            if (t.IsFaulted)
                tcs.TrySetException(t.Exception!.InnerExceptions);
            else if (!tcs.TrySetResult(t.Result))
                t.Result.Dispose();  // cancelled meanwhile
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return tcs.Task;
    }

    /// <summary>The session's state.</summary>
    public SessionState State
    {
        get
        {
            if (!_native.TryAcquire(out var lease)) return SessionState.Closed;
            using (lease) return (SessionState)lease.Native.State();
        }
    }

    /// <summary>Calls waiting for an answer.</summary>
    public long PendingCalls
    {
        get
        {
            if (!_native.TryAcquire(out var lease)) return 0;
            using (lease) return lease.Native.PendingCalls();
        }
    }

    /// <summary>True once <see cref="Dispose"/> was called.</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>
    /// The engine's Global object (handle -1), typed (<see cref="Qix.Api.Global"/>: every Global method of the
    /// Engine API), on which <see cref="CallAsync(string, string, CancellationToken)"/> calls.
    /// </summary>
    public Qix.Api.Global Global
    {
        get
        {
            lock (_gate)
            {
                if (_global != null) return _global;
            }
            NativeObject native;
            using (var lease = _native.Acquire()) native = lease.Native.Global();
            var global = (Qix.Api.Global)Adopt(native, (s, n) => new Qix.Api.Global(s, n));
            lock (_gate)
            {
                if (_global == null) _global = global;
                else global.Dispose();
                return _global;
            }
        }
    }

    /// <summary>State changes (Connected, Closed ...).</summary>
    public event EventHandler<SessionStateChangedEventArgs>? StateChanged
    {
        add { lock (_gate) _stateChanged += value; }
        remove { lock (_gate) _stateChanged -= value; }
    }

    /// <summary>The connection closed (by <see cref="Close"/>, the engine, or a failure), with its close code and reason.</summary>
    public event EventHandler<SessionStateChangedEventArgs>? Closed
    {
        add { lock (_gate) _closed += value; }
        remove { lock (_gate) _closed -= value; }
    }

    /// <summary>
    /// Engine notifications (OnConnected, OnAuthenticationInformation ...). Each new handler first receives
    /// the notifications that arrived before it subscribed (the last 256), then the new ones, in order.
    /// </summary>
    public event EventHandler<NotificationEventArgs>? NotificationReceived
    {
        add
        {
            if (value == null) return;
            lock (_gate)
            {
                _notification += value;
                if (_history.Count == 0) return;
                NotificationEventArgs[] replay = _history.ToArray();
                Events.Post(() =>
                {
                    foreach (NotificationEventArgs args in replay)
                        EventQueue.Raise(value, this, args, nameof(NotificationReceived));
                });
            }
        }
        remove { lock (_gate) _notification -= value; }
    }

    /// <summary>Calls <paramref name="method"/> on the Global object with params as JSON text (an array or an object).</summary>
    /// <returns>The result. Faults with <see cref="QixException"/>; cancelled when <paramref name="cancellationToken"/> is.</returns>
    public Task<QixResult> CallAsync(string method, string paramsJson = "[]", CancellationToken cancellationToken = default) =>
        CallAsync(method, paramsJson, CallFlags.Default, null, cancellationToken);

    /// <summary>Calls <paramref name="method"/> on the Global object with params as a JSON element.</summary>
    public Task<QixResult> CallAsync(string method, JsonElement parameters, CancellationToken cancellationToken = default) =>
        CallAsync(method, parameters.GetRawText(), CallFlags.Default, null, cancellationToken);

    /// <summary>
    /// Calls <paramref name="method"/> on the Global object (<c>Global.CallAsync</c>). <paramref name="timeout"/>:
    /// null = the session's <c>timeout.call_ms</c>, <see cref="Timeout.InfiniteTimeSpan"/> = none. Cancelling
    /// <paramref name="cancellationToken"/> sends the engine a CancelRequest and cancels the task.
    /// </summary>
    public Task<QixResult> CallAsync(string method, string paramsJson, CallFlags flags, TimeSpan? timeout = null,
                                     CancellationToken cancellationToken = default)
    {
        if (method == null) throw new ArgumentNullException(nameof(method));
        return Global.CallAsync(method, paramsJson, flags, timeout, cancellationToken);
    }

    /// <summary>Blocking call on the Global object (<c>Global.Call</c>). Throws <see cref="QixException"/> on failure.</summary>
    public QixResult Call(string method, string paramsJson = "[]", CallFlags flags = CallFlags.Default,
                          TimeSpan? timeout = null)
    {
        if (method == null) throw new ArgumentNullException(nameof(method));
        return Global.Call(method, paramsJson, flags, timeout);
    }

    /// <summary>
    /// Hands this session's later events to another of libqix's event threads (qix_session_hand_over_events),
    /// so that the continuation running on the event thread now may block. False when there was nothing to
    /// hand over (or the session is disposed).
    /// </summary>
    internal bool HandOverEvents()
    {
        if (!_native.TryAcquire(out var lease)) return false;
        using (lease) return lease.Native.HandOverEvents();
    }

    /// <summary>Cancels the pending request <paramref name="requestId"/> (its task ends cancelled). False when it is not pending.</summary>
    public bool Cancel(long requestId)
    {
        using var lease = _native.Acquire();
        return lease.Native.Cancel(requestId);
    }

    /// <summary>
    /// Opens the app <paramref name="appId"/> (Global.OpenDoc with its defaults) and returns its typed
    /// <see cref="Qix.Api.Doc"/>; <c>Global.OpenDocAsync</c> takes every parameter.
    /// </summary>
    public async Task<Qix.Api.Doc> OpenDocAsync(string appId, CancellationToken cancellationToken = default)
    {
        if (appId == null) throw new ArgumentNullException(nameof(appId));
        return await Global.OpenDocAsync(appId, cancellationToken: cancellationToken).ConfigureAwait(false)
               ?? throw new QixException(QixStatus.NotFound, "OpenDoc returned no object");
    }

    /// <summary>Closes the connection (WebSocket code 1000): pending calls fail with Closed, <see cref="Closed"/> is raised.
    /// The session stays usable for reading its state until disposed. Idempotent.</summary>
    public void Close()
    {
        if (!_native.TryAcquire(out var lease)) return;
        using (lease) lease.Native.Close();
    }

    /// <summary>
    /// Closes the connection and releases everything: pending calls fail with <see cref="QixStatus.Closed"/>,
    /// the session's objects are disposed, and no listener of the session stays registered. Idempotent.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        // An extraction's row callback waiting for room on this session's event thread stops waiting.
        Extraction.WakeProducers(this);
        // The native handles are freed once the close has been processed (see FreeNative): pending calls
        // complete (with Closed) before that, however soon the program lets go of the session.
        var held = new List<IDisposable>();
        bool hasSession = _native.TryAcquire(out var session);
        if (hasSession)
        {
            session.Native.Close();
            held.Add(session);
        }
        QixObject[] objects;
        lock (_gate)
        {
            objects = _objects.ToArray();
            _objects.Clear();
            _global = null;
        }
        foreach (QixObject obj in objects)
        {
            IDisposable? hold = obj.HoldNative();
            if (hold != null) held.Add(hold);
            obj.Release();
        }
        _native.Close();  // new uses fail at once; the native session goes with the last held lease
        lock (_gate) _heldUntilClosed = held;
        if (!hasSession)
        {
            FreeNative();
            return;
        }
        // libqix's one "closed and drained" signal, waited for on the thread pool (Dispose does not block):
        // the closed event and every callback before it have run, so nothing can use what FreeNative
        // releases. The held lease keeps the native session alive meanwhile; the close handshake is bounded
        // by the session's handshake and keep-alive timeouts.
        NativeSession native = session.Native;
        Task.Run(() =>
        {
            try
            {
                native.WaitClosed(-1);
            }
            catch (QixException e)
            {
                QixDiagnostics.ReportHandlerException(this, nameof(Dispose), e);  // a bug: say so, then free
            }
            FreeNative();
        });
    }

    /// <summary>Releases the native session and objects held by Dispose until the close was processed.</summary>
    private void FreeNative()
    {
        List<IDisposable>? held;
        lock (_gate)
        {
            held = _heldUntilClosed;
            if (held == null) return;  // freed already
            _heldUntilClosed = null;
        }
        if (Interlocked.Exchange(ref _nativeFreed, 1) != 0) return;
        // Objects first, then the session (the session's lease is the first in the list).
        for (int i = held.Count - 1; i >= 0; i--) held[i].Dispose();
        s_open.TryRemove(this, out _);
        // _listener stays referenced by this object: a callback already running on a libqix thread finishes.
    }

    /// <summary>Same as <see cref="Dispose"/>.</summary>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return default;
    }

    /// <summary>
    /// Wraps a native object: with <paramref name="make"/> (the typed API's class a method returns), else as
    /// the typed class of its qType (<see cref="Qix.Api.TypedObjects.Create"/>), else as a plain QixObject.
    /// </summary>
    internal QixObject Adopt(NativeObject native, Func<Session, NativeObject, QixObject>? make = null)
    {
        QixObject obj = make != null ? make(this, native) : Qix.Api.TypedObjects.Create(this, native);
        lock (_gate)
        {
            if (!IsDisposed)
            {
                _objects.Add(obj);
                return obj;
            }
        }
        obj.Release();
        return obj;
    }

    internal void Forget(QixObject obj)
    {
        lock (_gate)
        {
            _objects.Remove(obj);
            if (ReferenceEquals(_global, obj)) _global = null;
        }
    }

    internal void TryCancelQuietly(long requestId)
    {
        try
        {
            if (!_native.TryAcquire(out var lease)) return;
            using (lease) lease.Native.Cancel(requestId);
        }
        catch (Exception)
        {
            // Runs inside CancellationTokenSource.Cancel(): never throw there. A call that is no longer
            // pending (or a closed session) needs no cancelling.
        }
    }

    internal QixResult ToResult(NativeResult result)
    {
        QixObject? obj = result.HasObject() ? Adopt(result.Object()) : null;
        return new QixResult(result.Id(), result.Json(), result.Raw(), obj);
    }

    internal static int ToTimeoutMs(TimeSpan? timeout)
    {
        if (!timeout.HasValue) return -1;
        if (timeout.Value == Timeout.InfiniteTimeSpan) return 0;
        if (timeout.Value < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(timeout));
        return Math.Max(1, (int)Math.Min(int.MaxValue, timeout.Value.TotalMilliseconds));
    }

    private void OnNativeState(int state, int closeCode, string reason)
    {
        var args = new SessionStateChangedEventArgs((SessionState)state, closeCode, reason);
        Events.Post(() =>
        {
            EventHandler<SessionStateChangedEventArgs>? changed, closed;
            lock (_gate)
            {
                changed = _stateChanged;
                closed = _closed;
            }
            EventQueue.Raise(changed, this, args, nameof(StateChanged));
            if (args.State == SessionState.Closed) EventQueue.Raise(closed, this, args, nameof(Closed));
        });
    }

    private void OnNativeNotification(string method, string paramsJson)
    {
        var args = new NotificationEventArgs(method, paramsJson);
        lock (_gate)
        {
            if (_history.Count == NotificationHistoryLimit) _history.RemoveAt(0);
            _history.Add(args);
            // The handlers are taken now, under the lock that also orders replays: a handler added later
            // gets this notification from its replay, exactly once.
            EventHandler<NotificationEventArgs>? handler = _notification;
            Events.Post(() => EventQueue.Raise(handler, this, args, nameof(NotificationReceived)));
        }
    }

    /// <summary>The session's director: runs on libqix's dispatcher thread and only enqueues.</summary>
    private sealed class SessionEvents : NativeSessionListener
    {
        private readonly Session _owner;

        public SessionEvents(Session owner) => _owner = owner;

        public override void OnState(int state, int closeCode, string reason)
        {
            try
            {
                _owner.OnNativeState(state, closeCode, reason);
            }
            catch (Exception e)
            {
                QixDiagnostics.ReportHandlerException(_owner, nameof(StateChanged), e);
            }
            GC.KeepAlive(this);
        }

        public override void OnNotification(string method, string paramsJson)
        {
            try
            {
                _owner.OnNativeNotification(method, paramsJson);
            }
            catch (Exception e)
            {
                QixDiagnostics.ReportHandlerException(_owner, nameof(NotificationReceived), e);
            }
            GC.KeepAlive(this);
        }
    }
}
