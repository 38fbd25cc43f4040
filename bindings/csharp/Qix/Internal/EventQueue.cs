using System;
using System.Collections.Concurrent;
using System.Threading;

namespace Qix.Internal;

/// <summary>
/// Raises one session's events on the thread pool, one at a time and in the order libqix delivered them.
/// libqix's dispatcher thread only enqueues (it never runs user code), so a slow or blocking handler delays
/// that session's later events but never libqix, and handlers may make blocking calls.
/// </summary>
internal sealed class EventQueue
{
    private static readonly WaitCallback s_drain = state => ((EventQueue)state!).Drain();
    private readonly ConcurrentQueue<Action> _queue = new();
    private int _running;

    public void Post(Action action)
    {
        _queue.Enqueue(action);
        if (Interlocked.CompareExchange(ref _running, 1, 0) == 0)
            ThreadPool.UnsafeQueueUserWorkItem(s_drain, this);
    }

    private void Drain()
    {
        while (true)
        {
            while (_queue.TryDequeue(out Action? action))
            {
                try
                {
                    action();
                }
                catch (Exception e)
                {
                    QixDiagnostics.ReportHandlerException(null, "event", e);
                }
            }
            // A full fence, not a release store: Post writes the queue, then reads the flag; this clears the flag,
            // then reads the queue. With a plain store the processor may read the queue before the cleared flag
            // is visible, so that both sides miss the event (it would wait for the session's next one).
            Interlocked.Exchange(ref _running, 0);
            // An event enqueued after the last TryDequeue but before the flag dropped is picked up here.
            if (_queue.IsEmpty || Interlocked.CompareExchange(ref _running, 1, 0) != 0) return;
        }
    }

    /// <summary>Calls every handler of <paramref name="handler"/>; one that throws is reported, the others still run.</summary>
    public static void Raise<TArgs>(EventHandler<TArgs>? handler, object sender, TArgs args, string eventName)
    {
        if (handler == null) return;
        foreach (Delegate d in handler.GetInvocationList())
        {
            try
            {
                ((EventHandler<TArgs>)d)(sender, args);
            }
            catch (Exception e)
            {
                QixDiagnostics.ReportHandlerException(sender, eventName, e);
            }
        }
    }

    /// <summary>Same as the generic overload, for plain <see cref="EventHandler"/> events.</summary>
    public static void Raise(EventHandler? handler, object sender, string eventName)
    {
        if (handler == null) return;
        foreach (Delegate d in handler.GetInvocationList())
        {
            try
            {
                ((EventHandler)d)(sender, EventArgs.Empty);
            }
            catch (Exception e)
            {
                QixDiagnostics.ReportHandlerException(sender, eventName, e);
            }
        }
    }
}
