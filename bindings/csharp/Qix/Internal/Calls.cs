using System;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using Qix.Interop;

namespace Qix.Internal;

/// <summary>
/// Asynchronous calls: each call gets a token (its slot in <see cref="s_pending"/>, a <see cref="CallTable{T}"/>);
/// libqix reports its completion, on the session's dispatcher thread, to the one process-wide callback
/// <see cref="OnCompleted"/> (a delegate rooted in a static field, registered with the shim, see
/// qix_csharp.i), which decides the call's outcome and settles it there when its session allows synchronous
/// continuations (<see cref="SessionOptions.AllowSynchronousContinuations"/>, the default; watched by
/// <see cref="ContinuationWatchdog"/>), else queues it to be settled on the thread pool (see "Settling on the
/// thread pool" below). Until then the call is
/// referenced from <see cref="s_pending"/>, so nothing native code will call back into can be collected. A
/// call is one object: the <see cref="PendingCall"/> is its TaskCompletionSource and holds what it sends (no
/// closure, no dictionary node).
/// </summary>
internal static class Calls
{
    private static readonly CallTable<PendingCall> s_pending = new(256);

    // The shim's call callback (qixcs::CallCallback): the token, the status, the request id, the whole result
    // and the unwrapped result as UTF-8 (borrowed for the duration of the call), and the facade's result
    // (a borrowed qix::Result*) when the call failed or its object was wanted, else null.
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate void CompletedDelegate(long token, int status, long id, IntPtr raw, int rawLength, IntPtr json,
                                            int jsonLength, IntPtr slow);

    // Rooted here: native code keeps its function pointer for the life of the process.
    private static readonly CompletedDelegate s_completed = OnCompleted;

    [DllImport("qixcsharp", EntryPoint = "QixCs_RegisterCallCallback")]
    private static extern void RegisterCallCallback(CompletedDelegate callback);

    static Calls()
    {
        RegisterCallCallback(s_completed);
    }

    /// <summary>Calls waiting for their completion, process-wide (for tests and diagnostics).</summary>
    internal static int PendingCount => s_pending.Count;

    /// <summary>
    /// Issues <paramref name="method"/> on <paramref name="target"/> (qix_object_call through the shim).
    /// Cancelling <paramref name="cancellationToken"/> asks libqix to cancel the request (the engine's
    /// CancelRequest); the task then ends cancelled. <paramref name="make"/> (when not null) wraps the object
    /// the result refers to (the typed API's class of the method), else its qType decides
    /// (<see cref="Session.Adopt"/>); <paramref name="wantObject"/>: whether that object is wanted at all;
    /// <paramref name="rawOnly"/>: only the whole result is read (the result has no unwrapped text).
    /// </summary>
    public static Task<QixResult> Issue(QixObject target, string method, string paramsJson, int flags, int timeoutMs,
                                        Func<Session, NativeObject, QixObject>? make, bool wantObject, bool rawOnly,
                                        CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested) return Task.FromCanceled<QixResult>(cancellationToken);
        Session session = target.Session;
        var call = new PendingCall(target, method, paramsJson, flags, timeoutMs, make, wantObject, rawOnly,
                                   cancellationToken);
        long token = s_pending.Add(call);
        call.Token = token;
        session.CallStarted();
        if (t_settling)
        {
            // A continuation run by a drainer: the call leaves with the others its drain issues (Flush).
            s_unsent.Enqueue(call);
            // Whoever comes first sends it: this drainer when its settling ends, or the one scheduled here
            // (should this drainer's continuation block, waiting for this very call, say).
            ScheduleDrainer();
            return call.Task;
        }
        long id;
        try
        {
            id = call.Send();
        }
        catch (Exception e)
        {
            // libqix will not call back (the C API refused the call before issuing it).
            s_pending.Take(token);
            session.CallEnded();
            return Task.FromException<QixResult>(e);
        }
        call.Started(id);
        return call.Task;
    }

    private static void OnCompleted(long token, int status, long id, IntPtr raw, int rawLength, IntPtr json,
                                    int jsonLength, IntPtr slow)
    {
        // Runs on libqix's dispatcher thread: no user code here (Complete only decides the outcome and queues
        // the call for a drainer, which runs the continuations), unless the call's session allows synchronous
        // continuations (then Complete runs them); nothing may escape into native code.
        try
        {
            PendingCall? call = s_pending.Take(token);
            if (call == null) return;
            byte[] rawUtf8 = Copy(raw, rawLength);
            // The shim points json into raw when the unwrapped text is a part of the whole: no second copy; no
            // json at all (length -1) when the call reads only the whole result.
            long at = json.ToInt64() - raw.ToInt64();
            byte[]? jsonUtf8;
            int jsonOffset;
            if (jsonLength < 0)
            {
                jsonUtf8 = null;
                jsonOffset = 0;
            }
            else if (rawLength > 0 && at >= 0 && at + jsonLength <= rawLength)
            {
                jsonUtf8 = rawUtf8;
                jsonOffset = (int)at;
            }
            else
            {
                jsonUtf8 = Copy(json, jsonLength);
                jsonOffset = 0;
            }
            if (slow == IntPtr.Zero)
            {
                call.Complete(status, id, rawUtf8, jsonUtf8, jsonOffset, jsonLength, null);
                return;
            }
            using var result = new NativeResult(slow, false);  // borrowed: no native free, no finalizer
            call.Complete(status, id, rawUtf8, jsonUtf8, jsonOffset, jsonLength, result);
        }
        catch (Exception e)
        {
            QixDiagnostics.ReportHandlerException(null, "call completion", e);
        }
    }

    private static byte[] Copy(IntPtr utf8, int length)
    {
        var bytes = new byte[length];
        if (length > 0) Marshal.Copy(utf8, bytes, 0, length);
        return bytes;
    }

    // ---- Settling on the thread pool ------------------------------------------------------------------
    // libqix's dispatcher thread only decides each call's outcome (OnCompleted) and queues the call here; tasks
    // are settled on the thread pool by drainers, each settling as many queued calls as it finds, one after
    // the other, with the continuations run inline (the tasks are not RunContinuationsAsynchronously). At
    // window 64 one socket read brings many answers: they cost one thread-pool work item instead of one each.
    // A continuation that blocks (waiting for another call's task, say) cannot hold up the calls queued behind
    // it: before settling a call a drainer makes sure another drainer is scheduled whenever calls are left.

    private static readonly ConcurrentQueue<PendingCall> s_settle = new();
    private static readonly WaitCallback s_drain = _ => Drain();
    // 1 while a drainer is scheduled and has not started yet: it will see every call queued before it starts.
    private static int s_drainScheduled;

    private static void ScheduleDrainer()
    {
        if (Interlocked.CompareExchange(ref s_drainScheduled, 1, 0) == 0)
            ThreadPool.UnsafeQueueUserWorkItem(s_drain, null);
    }

    private static void Settle(PendingCall call)
    {
        s_settle.Enqueue(call);
        ScheduleDrainer();
    }

    // Calls the continuations run by drainers issued, in order, not yet sent.
    private static readonly ConcurrentQueue<PendingCall> s_unsent = new();
    private static readonly object s_flushGate = new();
    // True on a drainer's thread while it settles calls (and runs their continuations).
    [ThreadStatic] private static bool t_settling;
    // A drainer sends what its continuations issued at least this often, not only when its queue is empty.
    private const int FlushEvery = 256;

    [DllImport("qixcsharp", EntryPoint = "QixCs_BatchBegin")]
    private static extern void BatchBegin();
    [DllImport("qixcsharp", EntryPoint = "QixCs_BatchEnd")]
    private static extern void BatchEnd();

    private static void Drain()
    {
        // Calls queued from now on schedule another drainer (unless one is already scheduled). A full fence,
        // not a release store: the flag is cleared, then the queues are read, while Settle and Issue write a
        // queue, then read the flag (its CompareExchange); with a plain store the processor may read the queues
        // before the cleared flag is visible, so that this drainer finds them empty and the other side still
        // sees a drainer scheduled: a call left in a queue that nobody drains (at window 1, a hang).
        Interlocked.Exchange(ref s_drainScheduled, 0);
        Flush();
        int settled = 0;
        while (s_settle.TryDequeue(out PendingCall? call))
        {
            if (!s_settle.IsEmpty) ScheduleDrainer();
            t_settling = true;
            try
            {
                call.SetOutcome();
            }
            catch (Exception e)
            {
                QixDiagnostics.ReportHandlerException(null, "call completion", e);
            }
            finally
            {
                t_settling = false;
            }
            if (++settled % FlushEvery == 0) Flush();
        }
        Flush();
    }

    /// <summary>
    /// Called before anything of the binding reaches native code: on a drainer's thread, inside a
    /// continuation, first sends the calls issued so far, so that what the continuation does next (a blocking
    /// call, a Dispose, a count of pending calls ...) comes after them, as it would without the deferral.
    /// </summary>
    internal static void SendIssued()
    {
        if (t_settling && !s_unsent.IsEmpty) Flush();
    }

    /// <summary>
    /// Sends the calls continuations issued on drainers, in the order they were issued, inside one libqix
    /// batch (qix_batch_begin/qix_batch_end): one write for all of them. Runs no user code: a call libqix
    /// refuses is settled (faulted) by a drainer, like every other call. Returns once every call deferred
    /// before it was called has been sent (by this thread or by the one holding the gate).
    /// </summary>
    private static void Flush()
    {
        if (s_unsent.IsEmpty) return;
        bool settling = t_settling;
        t_settling = false;  // the sends below reach NativeRef.TryAcquire: no flush from there
        try
        {
            FlushLocked();
        }
        finally
        {
            t_settling = settling;
        }
    }

    private static void FlushLocked()
    {
        lock (s_flushGate)
        {
            if (s_unsent.IsEmpty) return;
            BatchBegin();
            try
            {
                while (s_unsent.TryDequeue(out PendingCall? call))
                {
                    try
                    {
                        call.SendDeferred();
                    }
                    catch (Exception e)
                    {
                        QixDiagnostics.ReportHandlerException(null, "call", e);
                    }
                }
            }
            finally
            {
                BatchEnd();
            }
        }
    }

    // The session whose answer this thread (a libqix event thread) is settling, with its continuations run
    // here (a session that allows synchronous continuations); null elsewhere.
    [ThreadStatic] private static Session? t_delivering;

    /// <summary>
    /// Called before the binding blocks (a blocking call): inside a synchronous continuation, on libqix's
    /// event thread, the session's later events are first handed to another event thread, so that neither
    /// the answer waited for nor the session's other events wait for this thread (libqix then allows the
    /// blocking call here, which it refuses with Busy on an event thread otherwise). Elsewhere, nothing.
    /// </summary>
    internal static void BeforeBlocking()
    {
        Session? session = t_delivering;
        if (session == null) return;
        t_delivering = null;  // once per settling: the thread is no longer the session's event thread
        session.HandOverEvents();
    }

    /// <summary>Calls decided but not yet settled (for tests).</summary>
    internal static int SettlingCount => s_settle.Count;

    /// <summary>
    /// A call in flight: its own TaskCompletionSource (not RunContinuationsAsynchronously: SetOutcome runs on
    /// a drainer, on the thread pool, and runs the continuations there; or, for a session that allows
    /// synchronous continuations, on libqix's event thread in Complete), with what
    /// it sends until it is sent and the outcome OnCompleted decided until a drainer applies it.
    /// </summary>
    private sealed class PendingCall : TaskCompletionSource<QixResult>
    {
        private static readonly Action<object?> s_cancel = state => ((PendingCall)state!).CancelRequest();

        private readonly Session _session;
        private readonly Func<Session, NativeObject, QixObject>? _make;
        private readonly CancellationToken _cancellationToken;
        private CancellationTokenRegistration _registration;
        // What Send sends (method and params dropped once sent).
        private readonly QixObject _target;
        private string? _method;
        private string? _paramsJson;
        private readonly int _flags;
        private readonly int _timeoutMs;
        private readonly bool _wantObject;
        private readonly bool _rawOnly;
        // The request id, once sent (what a cancellation cancels).
        private long _id;
        // The outcome OnCompleted decided, applied by SetOutcome: a result, an exception, or neither (cancelled).
        private QixResult? _result;
        private Exception? _exception;

        public PendingCall(QixObject target, string method, string paramsJson, int flags, int timeoutMs,
                           Func<Session, NativeObject, QixObject>? make, bool wantObject, bool rawOnly,
                           CancellationToken cancellationToken)
        {
            _rawOnly = rawOnly;
            _target = target;
            _session = target.Session;
            _method = method;
            _paramsJson = paramsJson;
            _flags = flags;
            _timeoutMs = timeoutMs;
            _make = make;
            _wantObject = wantObject;
            _cancellationToken = cancellationToken;
        }

        /// <summary>The call's token in <see cref="s_pending"/> (set once, before the call is sent).</summary>
        public long Token;

        /// <summary>Sends the call (qix_object_call); returns the request id. Throws when libqix refuses it.</summary>
        public long Send()
        {
            string method = _method!, paramsJson = _paramsJson!;
            _method = null;
            _paramsJson = null;
            return _target.SendCall(method, paramsJson, _flags, _timeoutMs, Token, _wantObject, _rawOnly);
        }

        /// <summary>Sends a deferred call (in Flush); a call libqix refuses is faulted like an issued one.</summary>
        public void SendDeferred()
        {
            long id;
            try
            {
                id = Send();
            }
            catch (Exception e)
            {
                // libqix will not call back (the C API refused the call before issuing it).
                if (s_pending.Take(Token) == null) return;
                _session.CallEnded();
                _exception = e;
                Settle(this);
                return;
            }
            Started(id);
        }

        public void Started(long id)
        {
            if (!_cancellationToken.CanBeCanceled || Task.IsCompleted) return;
            Volatile.Write(ref _id, id);
            var registration = _cancellationToken.Register(s_cancel, this);
            lock (this)
            {
                if (Task.IsCompleted)
                {
                    registration.Dispose();
                    return;
                }
                _registration = registration;
            }
        }

        private void CancelRequest() => _session.TryCancelQuietly(Volatile.Read(ref _id));

        /// <summary>
        /// Decides the outcome (on libqix's dispatcher thread, while <paramref name="result"/>, the facade's
        /// result, is borrowed: there when the call failed or its object was wanted, else null) and queues the
        /// call to be settled on the thread pool; settles it here when the session allows synchronous
        /// continuations.
        /// </summary>
        public void Complete(int status, long id, byte[] rawUtf8, byte[]? jsonUtf8, int jsonOffset, int jsonLength,
                             NativeResult? result)
        {
            _session.CallEnded();
            if (status == (int)QixStatus.Ok)
            {
                QixObject? obj = result != null && result.HasObject() ? _session.Adopt(result.Object(), _make) : null;
                _result = new QixResult(id, jsonUtf8, jsonOffset, jsonLength, rawUtf8, obj);
            }
            else if (status == (int)QixStatus.Cancelled)
            {
                // Neither: cancelled.
            }
            else if (result != null)
            {
                using NativeError error = result.Error();
                _exception = error.ToException();
            }
            else
            {
                _exception = new QixException((QixStatus)status, "call failed");
            }
            if (!_session.SynchronousContinuations)
            {
                Settle(this);
                return;
            }
            // The session allows synchronous continuations: settled here, on libqix's event thread, where the
            // calls the continuations issue are sent directly and leave together with those of the other
            // answers of this delivery (libqix's output batch), as a C callback's calls do. The watchdog hands
            // the session's later answers to another event thread should a continuation stay here for long.
            Session? outer = t_delivering;
            t_delivering = _session;
            ContinuationWatchdog.Slot slot = ContinuationWatchdog.Enter(_session);
            try
            {
                SetOutcome();
            }
            catch (Exception e)
            {
                QixDiagnostics.ReportHandlerException(null, "call completion", e);
            }
            finally
            {
                ContinuationWatchdog.Exit(slot);
                t_delivering = outer;
            }
        }

        /// <summary>Settles the task (on a drainer): its continuations run here.</summary>
        public void SetOutcome()
        {
            // The task first, as Started looks at it under the lock to decide whether to keep its registration.
            if (_result != null) TrySetResult(_result);
            else if (_exception != null) TrySetException(_exception);
            else TrySetCanceled(_cancellationToken);
            CancellationTokenRegistration registration;
            lock (this)
            {
                registration = _registration;
                _registration = default;
            }
            registration.Dispose();
        }
    }
}
