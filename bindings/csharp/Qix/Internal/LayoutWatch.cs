using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using Qix.Interop;

namespace Qix.Internal;

/// <summary>
/// The watches of the process (qix_object_watch): libqix reports each fresh layout, on the session's event
/// thread, to the process-wide <see cref="Sink"/> (a director rooted in a static field, see qix_csharp.i),
/// which finds the watch by its token. A layout for a token no longer known (a watch stopped meanwhile) is
/// dropped.
/// </summary>
internal abstract class LayoutWatch
{
    private static readonly ConcurrentDictionary<long, LayoutWatch> s_active = new();
    private static readonly Sink s_sink = new();
    private static long s_nextToken;

    static LayoutWatch()
    {
        QixNative.set_watch_sink(s_sink);
    }

    /// <summary>Watches started and not yet stopped, process-wide (for tests).</summary>
    internal static int ActiveCount => s_active.Count;

    protected static long Register(LayoutWatch watch)
    {
        long token = Interlocked.Increment(ref s_nextToken);
        s_active[token] = watch;
        return token;
    }

    protected static void Unregister(long token) => s_active.TryRemove(token, out _);

    /// <summary>A fresh layout (JSON text of the qLayout) or the fetch's error. On the session's event thread.</summary>
    protected abstract void Deliver(string? layoutJson, Exception? error);

    private sealed class Sink : NativeWatchSink
    {
        public override void OnLayout(long token, NativeResult result)
        {
            try
            {
                if (!s_active.TryGetValue(token, out LayoutWatch? watch)) return;
                if (result.Status() == (int)QixStatus.Ok)
                {
                    watch.Deliver(result.Json(), null);
                }
                else
                {
                    using NativeError error = result.Error();
                    watch.Deliver(null, error.ToException());
                }
            }
            catch (Exception e)
            {
                QixDiagnostics.ReportHandlerException(null, "watch", e);
            }
            finally
            {
                result.Dispose();  // borrowed proxy: drops the pointer, no native free
                GC.KeepAlive(this);
            }
        }
    }
}

/// <summary>One watch as an async stream of layouts decoded by <c>decode</c>; only the latest is kept.</summary>
internal sealed class LayoutWatch<T> : LayoutWatch
{
    private readonly QixObject _target;
    private readonly Func<string, T> _decode;
    private readonly object _gate = new();
    private string? _latest;
    private Exception? _error;
    private TaskCompletionSource<bool>? _waiter;

    public LayoutWatch(QixObject target, Func<string, T> decode)
    {
        _target = target;
        _decode = decode;
    }

    public async IAsyncEnumerable<T> Enumerate([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        long token = Register(this);
        try
        {
            _target.StartWatch(token);
        }
        catch
        {
            Unregister(token);
            throw;
        }
        try
        {
            while (true)
            {
                string json = await NextAsync(cancellationToken).ConfigureAwait(false);
                yield return _decode(json);
            }
        }
        finally
        {
            Unregister(token);
            _target.StopWatch();
        }
    }

    private async Task<string> NextAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            TaskCompletionSource<bool> waiter;
            lock (_gate)
            {
                if (_latest != null)
                {
                    string json = _latest;
                    _latest = null;
                    return json;
                }
                if (_error != null) throw _error;
                _waiter = waiter = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            }
            using (cancellationToken.Register(static w => ((TaskCompletionSource<bool>)w!).TrySetCanceled(), waiter))
                await waiter.Task.ConfigureAwait(false);
        }
    }

    protected override void Deliver(string? layoutJson, Exception? error)
    {
        TaskCompletionSource<bool>? wake;
        lock (_gate)
        {
            if (error != null) _error ??= error;
            else _latest = layoutJson;
            wake = _waiter;
            _waiter = null;
        }
        wake?.TrySetResult(true);
    }
}
