using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using Qix.Api;
using Qix.Interop;

namespace Qix.Internal;

/// <summary>
/// One bulk extraction (qix_object_extract) as an async stream of typed rows. libqix delivers the rows on the
/// session's event thread, one at a time and in order, to the process-wide <see cref="Sink"/> (a director
/// rooted in a static field, see qix_csharp.i), which finds the extraction by its token. The rows go through
/// a bounded queue of <see cref="Capacity"/> rows: when it is full the row callback blocks until the consumer
/// takes one (back-pressure: that stalls this session's event delivery, and the extraction's window bounds
/// the pages in flight), except while a call of the same session waits for its answer (counted by
/// <see cref="Session.CallStarted"/>): that answer comes after the rows, and the consumer may be awaiting it
/// in its loop body, so the queue then grows past its bound instead of deadlocking. Stopping (the consumer leaves its loop or cancels) makes the next row callback
/// return non-zero, which ends the extraction; the enumerator's disposal waits for that end.
/// </summary>
internal sealed class Extraction
{
    /// <summary>Rows decoded and not yet taken by the consumer, at most.</summary>
    internal const int Capacity = 256;

    private static readonly ConcurrentDictionary<long, Extraction> s_active = new();
    // Entries of s_active, or more (counted before an entry is added, after it is removed): read by every call
    // (WakeProducers), where ConcurrentDictionary.IsEmpty would take all of its locks when it is empty.
    private static int s_activeCount;
    private static readonly Sink s_sink = new();
    private static long s_nextToken;

    static Extraction()
    {
        QixNative.set_extract_sink(s_sink);
    }

    /// <summary>Extractions started and not yet ended, process-wide (for tests).</summary>
    internal static int ActiveCount => s_active.Count;

    private readonly object _gate = new();
    private readonly Queue<Row> _rows = new();
    private readonly TaskCompletionSource<bool> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource<bool>? _waiter;
    private bool _stopped;   // the consumer left: the next row callback stops the extraction
    private bool _done;      // libqix reported the end
    private Exception? _error;

    private readonly Session _session;

    private Extraction(Session session)
    {
        _session = session;
    }

    /// <summary>
    /// A call of <paramref name="session"/> is being issued: its extractions' row callbacks waiting for room go
    /// on (its answer comes after the rows on the session's event thread; the consumer may be awaiting it).
    /// </summary>
    internal static void WakeProducers(Session session)
    {
        if (Volatile.Read(ref s_activeCount) == 0) return;
        foreach (Extraction extraction in s_active.Values)
        {
            if (!ReferenceEquals(extraction._session, session)) continue;
            lock (extraction._gate) Monitor.PulseAll(extraction._gate);
        }
    }

    /// <summary>The rows of the hypercube at <paramref name="path"/> of <paramref name="target"/>.</summary>
    public static async IAsyncEnumerable<Row> Run(QixObject target, string path, int pageHeight, int window,
                                                  [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var extraction = new Extraction(target.Session);
        long token = Interlocked.Increment(ref s_nextToken);
        Interlocked.Increment(ref s_activeCount);
        s_active[token] = extraction;
        try
        {
            target.StartExtract(path, pageHeight, window, token);
        }
        catch
        {
            if (s_active.TryRemove(token, out _)) Interlocked.Decrement(ref s_activeCount);  // not started: no callback will run
            throw;
        }
        try
        {
            while (true)
            {
                Row? row = await extraction.NextAsync(cancellationToken).ConfigureAwait(false);
                if (row == null) yield break;
                yield return row;
            }
        }
        finally
        {
            extraction.Stop();
            await extraction._ended.Task.ConfigureAwait(false);
        }
    }

    private async Task<Row?> NextAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            TaskCompletionSource<bool> waiter;
            lock (_gate)
            {
                if (_rows.Count > 0)
                {
                    Row row = _rows.Dequeue();
                    if (_rows.Count == Capacity - 1) Monitor.PulseAll(_gate);  // the producer may wait for room
                    return row;
                }
                if (_done)
                {
                    if (_error != null) throw _error;
                    return null;
                }
                _waiter = waiter = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            }
            using (cancellationToken.Register(static w => ((TaskCompletionSource<bool>)w!).TrySetCanceled(), waiter))
                await waiter.Task.ConfigureAwait(false);
        }
    }

    private void Stop()
    {
        lock (_gate)
        {
            _stopped = true;
            _rows.Clear();
            Monitor.PulseAll(_gate);
        }
    }

    // ---- On the session's event thread ----------------------------------------------------------------------

    private int OnRow(string json, long index)
    {
        Row row;
        try
        {
            row = new Row(index, ApiJson.Deserialize<List<NxCell>>(json) ?? new List<NxCell>());
        }
        catch (Exception e)
        {
            lock (_gate) _error ??= new QixException(QixStatus.Protocol, "row " + index + " is not an array of NxCell: " + e.Message);
            return 1;
        }
        TaskCompletionSource<bool>? wake;
        lock (_gate)
        {
            // No waiting while a call of this session waits for its answer (it comes after this row on the
            // session's event thread, and the consumer may be awaiting it in its loop body), nor once the
            // session is disposed (its end comes the same way, and the thread is the context's).
            if (_rows.Count >= Capacity && !_stopped && _session.CallsAwaitingAnswer == 0 && !_session.IsDisposed)
            {
                // About to wait for the consumer: on libqix's I/O thread (events.inline), another thread reads
                // the sockets meanwhile, so the context's other sessions go on; this session's rows stay in order.
                QixNative.io_step_aside();
                while (_rows.Count >= Capacity && !_stopped && _session.CallsAwaitingAnswer == 0 && !_session.IsDisposed)
                    Monitor.Wait(_gate);
            }
            if (_stopped) return 1;
            _rows.Enqueue(row);
            wake = _waiter;
            _waiter = null;
        }
        wake?.TrySetResult(true);
        return 0;
    }

    private void OnDone(NativeError? error)
    {
        TaskCompletionSource<bool>? wake;
        lock (_gate)
        {
            _done = true;
            // After the consumer's stop the end is QIX_ECANCELLED, which nobody waits to hear.
            if (error != null && _error == null && !_stopped) _error = error.ToException();
            wake = _waiter;
            _waiter = null;
        }
        wake?.TrySetResult(true);
        _ended.TrySetResult(true);
    }

    private sealed class Sink : NativeExtractSink
    {
        public override int OnRow(long token, string rowJson, long rowIndex)
        {
            // Nothing may escape into native code.
            try
            {
                return s_active.TryGetValue(token, out Extraction? extraction) ? extraction.OnRow(rowJson, rowIndex) : 1;
            }
            catch (Exception e)
            {
                QixDiagnostics.ReportHandlerException(null, "extraction row", e);
                return 1;
            }
            finally
            {
                GC.KeepAlive(this);
            }
        }

        public override void OnDone(long token, NativeError? error, long rows)
        {
            try
            {
                if (s_active.TryRemove(token, out Extraction? extraction))
                {
                    Interlocked.Decrement(ref s_activeCount);
                    extraction.OnDone(error);
                }
            }
            catch (Exception e)
            {
                QixDiagnostics.ReportHandlerException(null, "extraction end", e);
            }
            finally
            {
                error?.Dispose();  // borrowed proxy: drops the pointer, no native free
                GC.KeepAlive(this);
            }
        }
    }
}
