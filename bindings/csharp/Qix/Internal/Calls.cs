using System;
using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using Qix.Api;
using Qix.Interop;

namespace Qix.Internal;

/// <summary>
/// Asynchronous calls: each call gets a token (its slot in <see cref="s_pending"/>, a <see cref="CallTable{T}"/>);
/// libqix reports its completion, on the session's dispatcher thread, to the one process-wide callback
/// <see cref="OnCompleted"/> (registered with the shim, see qix_csharp.i: on .NET 5+ as an unmanaged entry
/// point, elsewhere as a delegate rooted in a static field), which decides the call's outcome and settles it
/// there when its session allows synchronous continuations
/// (<see cref="SessionOptions.AllowSynchronousContinuations"/>, the default; watched by
/// <see cref="ContinuationWatchdog"/>), else queues it to be settled on the thread pool (see "Settling on the
/// thread pool" below). Until then the call is referenced from <see cref="s_pending"/>, so nothing native code
/// will call back into can be collected. A call is one object: the <see cref="PendingCall{T}"/> is its
/// TaskCompletionSource and holds what it sends (no closure, no dictionary node); a typed call's task is its
/// decoded value (<see cref="IssueDecoded{T}"/>), so that it too is one object.
/// </summary>
internal static class Calls
{
    private static readonly CallTable<IPendingCall> s_pending = new(256);

    // The shim's call callback (qixcs::CallCallback): the token, the status, the request id, the whole result
    // and the unwrapped result as UTF-8 (borrowed for the duration of the call), and the facade's result
    // (a borrowed qix::Result*) when the call failed or its object was wanted, else null.
#if NET5_0_OR_GREATER
    // .NET 5+: the callback is an unmanaged entry point of its own (no delegate, no marshalling stub: the
    // cheapest way into .NET, taken once per answer).
    [UnmanagedCallersOnly(CallConvs = new[] { typeof(CallConvCdecl) })]
    private static void OnCompletedEntry(long token, int status, long id, IntPtr raw, int rawLength, IntPtr json,
                                         int jsonLength, IntPtr slow) =>
        OnCompleted(token, status, id, raw, rawLength, json, jsonLength, slow);

    [DllImport("qixcsharp", EntryPoint = "QixCs_RegisterCallCallback")]
    private static extern unsafe void RegisterCallCallback(
        delegate* unmanaged[Cdecl]<long, int, long, IntPtr, int, IntPtr, int, IntPtr, void> callback);

    static unsafe Calls()
    {
        RegisterCallCallback(&OnCompletedEntry);
    }
#else
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
#endif

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
        return Start(new PendingCall<QixResult>(target, method, paramsJson, flags, timeoutMs, make, wantObject, rawOnly,
                                                null, null, null, cancellationToken));
    }

    /// <summary>
    /// A typed call (the typed API's, see <see cref="Qix.Api.ApiCall"/>): as <see cref="Issue"/> with the
    /// session's defaults and no object wanted, and its task is <paramref name="decode"/>'s value of the whole
    /// result (given <paramref name="wire"/> and <paramref name="read"/>), not a <see cref="QixResult"/>: one
    /// task, decoded where the answer is delivered (straight from libqix's text when the session runs
    /// continuations there, else from a pooled copy on the drainer). What <paramref name="decode"/> throws
    /// faults the task.
    /// </summary>
    public static Task<T> IssueDecoded<T>(QixObject target, string method, string paramsJson, ApiDecode<T> decode,
                                          string? wire, ApiReader<T>? read, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested) return Task.FromCanceled<T>(cancellationToken);
        return Start(new PendingCall<T>(target, method, paramsJson, (int)CallFlags.Default, Session.ToTimeoutMs(null),
                                        null, false, true, decode, wire, read, cancellationToken));
    }

    private static Task<T> Start<T>(PendingCall<T> call)
    {
        Session session = call.Session;
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
            return Task.FromException<T>(e);
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
            IPendingCall? call = s_pending.Take(token);
            if (call == null) return;
            if (slow == IntPtr.Zero)
            {
                call.Complete(status, id, raw, rawLength, json, jsonLength, null);
                return;
            }
            using var result = new NativeResult(slow, false);  // borrowed: no native free, no finalizer
            call.Complete(status, id, raw, rawLength, json, jsonLength, result);
        }
        catch (Exception e)
        {
            QixDiagnostics.ReportHandlerException(null, "call completion", e);
        }
    }

    // A QixResult of the borrowed texts: one copy of the answer (the shim points json into raw when the unwrapped
    // text is a part of the whole), no unwrapped text at all (length -1) when the call reads only the whole.
    private static QixResult MakeResult(long id, IntPtr raw, int rawLength, IntPtr json, int jsonLength, QixObject? obj)
    {
        byte[] rawUtf8 = Copy(raw, rawLength);
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
        return new QixResult(id, jsonUtf8, jsonOffset, jsonLength, rawUtf8, obj);
    }

    private static byte[] Copy(IntPtr utf8, int length)
    {
        var bytes = new byte[length];
        if (length > 0) Marshal.Copy(utf8, bytes, 0, length);
        return bytes;
    }

    private static unsafe ReadOnlySpan<byte> Borrowed(IntPtr utf8, int length) =>
        length > 0 ? new ReadOnlySpan<byte>((void*)utf8, length) : ReadOnlySpan<byte>.Empty;

    // ---- Settling on the thread pool ------------------------------------------------------------------
    // libqix's dispatcher thread only decides each call's outcome (OnCompleted) and queues the call here; tasks
    // are settled on the thread pool by drainers, each settling as many queued calls as it finds, one after
    // the other, with the continuations run inline (the tasks are not RunContinuationsAsynchronously). At
    // window 64 one socket read brings many answers: they cost one thread-pool work item instead of one each.
    // A continuation that blocks (waiting for another call's task, say) cannot hold up the calls queued behind
    // it: before settling a call a drainer makes sure another drainer is scheduled whenever calls are left.

    private static readonly ConcurrentQueue<IPendingCall> s_settle = new();
    private static readonly WaitCallback s_drain = _ => Drain();
    // 1 while a drainer is scheduled and has not started yet: it will see every call queued before it starts.
    private static int s_drainScheduled;

    private static void ScheduleDrainer()
    {
        if (Interlocked.CompareExchange(ref s_drainScheduled, 1, 0) == 0)
            ThreadPool.UnsafeQueueUserWorkItem(s_drain, null);
    }

    private static void Settle(IPendingCall call)
    {
        s_settle.Enqueue(call);
        ScheduleDrainer();
    }

    // Calls the continuations run by drainers issued, in order, not yet sent.
    private static readonly ConcurrentQueue<IPendingCall> s_unsent = new();
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
        while (s_settle.TryDequeue(out IPendingCall? call))
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
                while (s_unsent.TryDequeue(out IPendingCall? call))
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

    /// <summary>What <see cref="Calls"/> does with a call in flight, whatever its task's type.</summary>
    private interface IPendingCall
    {
        /// <summary>Sends a deferred call (in Flush); a call libqix refuses is faulted like an issued one.</summary>
        void SendDeferred();

        /// <summary>
        /// Decides the outcome, on libqix's dispatcher thread, while the texts (UTF-8, see the shim's
        /// call_completed) and <paramref name="result"/> (the facade's result, there when the call failed or
        /// its object was wanted, else null) are borrowed; settles the call here when its session allows
        /// synchronous continuations, else queues it for a drainer.
        /// </summary>
        void Complete(int status, long id, IntPtr raw, int rawLength, IntPtr json, int jsonLength, NativeResult? result);

        /// <summary>Settles the task (on a drainer, or in Complete): its continuations run here.</summary>
        void SetOutcome();
    }

    /// <summary>
    /// A call in flight: its own TaskCompletionSource (not RunContinuationsAsynchronously: SetOutcome runs on
    /// a drainer, on the thread pool, and runs the continuations there; or, for a session that allows
    /// synchronous continuations, on libqix's event thread in Complete), with what
    /// it sends until it is sent and the outcome OnCompleted decided until a drainer applies it. Its task is
    /// a <see cref="QixResult"/> (<typeparamref name="T"/> is QixResult, no decoder), or a typed call's value
    /// (<see cref="IssueDecoded{T}"/>).
    /// </summary>
    private sealed class PendingCall<T> : TaskCompletionSource<T>, IPendingCall
    {
        private static readonly Action<object?> s_cancel = state => ((PendingCall<T>)state!).CancelRequest();

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
        // A typed call's decoding (null: the task is the QixResult).
        private readonly ApiDecode<T>? _decode;
        private readonly string? _wire;
        private readonly ApiReader<T>? _read;
        // The request id, once sent (what a cancellation cancels).
        private long _id;
        // The outcome OnCompleted decided, applied by SetOutcome: a value, an exception, or neither (cancelled);
        // or a typed call's answer copied for the drainer to decode (_pooled, rented, _pooledLength bytes).
        private bool _hasValue;
        private T _value = default!;
        private Exception? _exception;
        private byte[]? _pooled;
        private int _pooledLength;

        public PendingCall(QixObject target, string method, string paramsJson, int flags, int timeoutMs,
                           Func<Session, NativeObject, QixObject>? make, bool wantObject, bool rawOnly,
                           ApiDecode<T>? decode, string? wire, ApiReader<T>? read, CancellationToken cancellationToken)
        {
            _rawOnly = rawOnly;
            _target = target;
            Session = target.Session;
            _method = method;
            _paramsJson = paramsJson;
            _flags = flags;
            _timeoutMs = timeoutMs;
            _make = make;
            _wantObject = wantObject;
            _decode = decode;
            _wire = wire;
            _read = read;
            _cancellationToken = cancellationToken;
        }

        public Session Session { get; }

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
                Session.CallEnded();
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

        private void CancelRequest() => Session.TryCancelQuietly(Volatile.Read(ref _id));

        public void Complete(int status, long id, IntPtr raw, int rawLength, IntPtr json, int jsonLength,
                             NativeResult? result)
        {
            Session session = Session;
            session.CallEnded();
            bool synchronous = session.SynchronousContinuations;
            bool decodeHere = false;
            if (status == (int)QixStatus.Ok)
            {
                if (_decode == null)
                {
                    QixObject? obj = result != null && result.HasObject() ? session.Adopt(result.Object(), _make) : null;
                    _value = (T)(object)MakeResult(id, raw, rawLength, json, jsonLength, obj);
                    _hasValue = true;
                }
                else if (synchronous)
                {
                    decodeHere = true;  // below, watched like a continuation (a large result takes a while)
                }
                else
                {
                    // The drainer decodes (SetOutcome): a copy in a pooled buffer until then.
                    _pooled = ArrayPool<byte>.Shared.Rent(Math.Max(rawLength, 1));
                    Borrowed(raw, rawLength).CopyTo(_pooled);
                    _pooledLength = rawLength;
                }
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
            if (!synchronous)
            {
                Settle(this);
                return;
            }
            // The session allows synchronous continuations: settled here, on libqix's event thread, where the
            // calls the continuations issue are sent directly and leave together with those of the other
            // answers of this delivery (libqix's output batch), as a C callback's calls do. The watchdog hands
            // the session's later answers to another event thread should a continuation stay here for long.
            Session? outer = t_delivering;
            t_delivering = session;
            ContinuationWatchdog.Slot slot = ContinuationWatchdog.Enter(session);
            try
            {
                if (decodeHere) Decode(Borrowed(raw, rawLength));  // the text stays borrowed until Complete returns
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

        // A typed call's value from its whole result, or the exception its decoder threw.
        private void Decode(ReadOnlySpan<byte> raw)
        {
            try
            {
                _value = _decode!(raw, _wire, _read);
                _hasValue = true;
            }
            catch (Exception e)
            {
                _exception = e;
            }
        }

        public void SetOutcome()
        {
            if (_pooled is { } pooled)
            {
                _pooled = null;
                Decode(new ReadOnlySpan<byte>(pooled, 0, _pooledLength));
                ArrayPool<byte>.Shared.Return(pooled);
            }
            // The task first, as Started looks at it under the lock to decide whether to keep its registration.
            if (_hasValue) TrySetResult(_value);
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
