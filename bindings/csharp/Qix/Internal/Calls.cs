using System;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using Qix.Interop;

namespace Qix.Internal;

/// <summary>
/// Asynchronous calls: each call gets a token; libqix reports its completion, on the session's dispatcher
/// thread, to the one process-wide callback <see cref="OnCompleted"/> (a delegate rooted in a static field,
/// registered with the shim, see qix_csharp.i), which completes the call's task. Until then the call is
/// referenced from <see cref="s_pending"/>, so nothing native code will call back into can be collected.
/// </summary>
internal static class Calls
{
    private static readonly ConcurrentDictionary<long, PendingCall> s_pending = new();
    private static long s_nextToken;

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
    /// Issues a call: <paramref name="send"/> gets the token and returns the request id. Cancelling
    /// <paramref name="cancellationToken"/> asks libqix to cancel the request (the engine's CancelRequest);
    /// the task then ends cancelled. <paramref name="make"/> (when not null) wraps the object the result refers
    /// to (the typed API's class of the method), else its qType decides (<see cref="Session.Adopt"/>).
    /// </summary>
    public static Task<QixResult> Issue(Session session, Func<long, long> send,
                                        Func<Session, NativeObject, QixObject>? make, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested) return Task.FromCanceled<QixResult>(cancellationToken);
        long token = Interlocked.Increment(ref s_nextToken);
        var call = new PendingCall(session, make, cancellationToken);
        s_pending[token] = call;
        session.CallStarted();
        long id;
        try
        {
            id = send(token);
        }
        catch (Exception e)
        {
            // libqix will not call back (the C API refused the call before issuing it).
            s_pending.TryRemove(token, out _);
            session.CallEnded();
            return Task.FromException<QixResult>(e);
        }
        call.Started(id);
        return call.Task;
    }

    private static void OnCompleted(long token, int status, long id, IntPtr raw, int rawLength, IntPtr json,
                                    int jsonLength, IntPtr slow)
    {
        // Runs on libqix's dispatcher thread: no user code here (continuations run asynchronously) and
        // nothing may escape into native code.
        try
        {
            if (!s_pending.TryRemove(token, out PendingCall? call)) return;
            byte[] rawUtf8 = Copy(raw, rawLength);
            byte[] jsonUtf8 = Copy(json, jsonLength);
            if (slow == IntPtr.Zero)
            {
                call.Complete(status, id, rawUtf8, jsonUtf8, null);
                return;
            }
            using var result = new NativeResult(slow, false);  // borrowed: no native free, no finalizer
            call.Complete(status, id, rawUtf8, jsonUtf8, result);
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

    private sealed class PendingCall
    {
        private readonly TaskCompletionSource<QixResult> _tcs =
            new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Session _session;
        private readonly Func<Session, NativeObject, QixObject>? _make;
        private readonly CancellationToken _cancellationToken;
        private CancellationTokenRegistration _registration;

        public PendingCall(Session session, Func<Session, NativeObject, QixObject>? make,
                           CancellationToken cancellationToken)
        {
            _session = session;
            _make = make;
            _cancellationToken = cancellationToken;
        }

        public Task<QixResult> Task => _tcs.Task;

        public void Started(long id)
        {
            if (!_cancellationToken.CanBeCanceled || _tcs.Task.IsCompleted) return;
            var registration = _cancellationToken.Register(() => _session.TryCancelQuietly(id));
            lock (this)
            {
                if (_tcs.Task.IsCompleted)
                {
                    registration.Dispose();
                    return;
                }
                _registration = registration;
            }
        }

        /// <summary>
        /// Settles the task. <paramref name="result"/> (the facade's result, borrowed) is there when the call
        /// failed or its object was wanted, else null.
        /// </summary>
        public void Complete(int status, long id, byte[] rawUtf8, byte[] jsonUtf8, NativeResult? result)
        {
            _session.CallEnded();
            if (status == (int)QixStatus.Ok)
            {
                QixObject? obj = result != null && result.HasObject() ? _session.Adopt(result.Object(), _make) : null;
                _tcs.TrySetResult(new QixResult(id, jsonUtf8, rawUtf8, obj));
            }
            else if (status == (int)QixStatus.Cancelled)
            {
                _tcs.TrySetCanceled(_cancellationToken);
            }
            else if (result != null)
            {
                using NativeError error = result.Error();
                _tcs.TrySetException(error.ToException());
            }
            else
            {
                _tcs.TrySetException(new QixException((QixStatus)status, "call failed"));
            }
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
