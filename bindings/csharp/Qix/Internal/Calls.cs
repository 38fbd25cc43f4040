using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Tasks;
using Qix.Interop;

namespace Qix.Internal;

/// <summary>
/// Asynchronous calls: each call gets a token; libqix reports its completion, on the session's dispatcher
/// thread, to the one process-wide <see cref="Sink"/> (a SWIG director rooted in a static field, see
/// qix_csharp.i), which completes the call's task. Until then the call is referenced from
/// <see cref="s_pending"/>, so nothing native code will call back into can be collected.
/// </summary>
internal static class Calls
{
    private static readonly ConcurrentDictionary<long, PendingCall> s_pending = new();
    private static readonly Sink s_sink = new();
    private static long s_nextToken;

    static Calls()
    {
        QixNative.set_call_sink(s_sink);
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

    private sealed class Sink : NativeCallSink
    {
        public override void OnResult(long token, NativeResult result)
        {
            // Runs on libqix's dispatcher thread: no user code here (continuations run asynchronously) and
            // nothing may escape into native code.
            try
            {
                if (s_pending.TryRemove(token, out PendingCall? call)) call.Complete(result);
            }
            catch (Exception e)
            {
                QixDiagnostics.ReportHandlerException(null, "call completion", e);
            }
            finally
            {
                result.Dispose();  // borrowed proxy: drops the pointer, no native free, no finalizer
                GC.KeepAlive(this);
            }
        }
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

        public void Complete(NativeResult result)
        {
            _session.CallEnded();
            int status = result.Status();
            if (status == (int)QixStatus.Ok)
            {
                QixObject? obj = result.HasObject() ? _session.Adopt(result.Object(), _make) : null;
                _tcs.TrySetResult(new QixResult(result.Id(), result.Json(), result.Raw(), obj));
            }
            else if (status == (int)QixStatus.Cancelled)
            {
                _tcs.TrySetCanceled(_cancellationToken);
            }
            else
            {
                using NativeError error = result.Error();
                _tcs.TrySetException(error.ToException());
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
