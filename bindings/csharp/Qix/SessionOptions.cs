using System;
using System.Collections.Generic;
using Qix.Internal;
using Qix.Interop;

namespace Qix;

/// <summary>
/// Settings of a session, set by name (the names and defaults of libqix's docs/defaults.md, e.g.
/// <c>url</c>, <c>url.host</c>, <c>timeout.call_ms</c>, <c>delta</c>, <c>tls.ca_file</c>). Opening a
/// session copies them, so one instance can open many sessions. Not thread-safe: fill it on one thread.
/// Dispose it when done (it holds a native object).
/// </summary>
public sealed class SessionOptions : IDisposable
{
    private readonly NativeRef<NativeOptions> _native;

    /// <summary>
    /// Every option libqix knows, with its type, bounds, accepted values, default and a one-line description,
    /// in docs/defaults.md's order (which may change between versions: find options by name). Thread-safe.
    /// </summary>
    public static IReadOnlyList<OptionInfo> Describe() => OptionInfo.All();

    /// <summary>Options with every default.</summary>
    public SessionOptions()
    {
        _native = new NativeRef<NativeOptions>(new NativeOptions(), nameof(SessionOptions));
    }

    /// <summary>Options with the complete WebSocket URL <paramref name="url"/> (e.g. <c>ws://localhost:9076/app/demo</c>).</summary>
    public SessionOptions(string url) : this()
    {
        Set("url", url);
    }

    /// <summary>Sets a string option. Throws <see cref="QixException"/> (InvalidArgument) on an unknown name or bad value.</summary>
    public SessionOptions Set(string name, string value)
    {
        using var lease = _native.Acquire();
        lease.Native.Set(name ?? throw new ArgumentNullException(nameof(name)),
                         value ?? throw new ArgumentNullException(nameof(value)));
        return this;
    }

    /// <summary>Sets an integer option (e.g. <c>timeout.call_ms</c>).</summary>
    public SessionOptions Set(string name, long value)
    {
        using var lease = _native.Acquire();
        lease.Native.SetInt(name ?? throw new ArgumentNullException(nameof(name)), value);
        return this;
    }

    /// <summary>
    /// Sets a boolean option (e.g. <c>delta</c>, <c>tls.verify</c>). <c>events.inline</c> (default true): calls
    /// complete and events run on the I/O thread that read their answers when nothing of the session is queued
    /// before them (else on an event thread), which saves a thread hand-off per answer; a continuation run there
    /// (see <see cref="AllowSynchronousContinuations"/>) that blocks for long holds up the context's other
    /// sessions until libqix's watch gives the I/O thread's work to another thread, 10 to 20 ms later (the
    /// binding's own blocking calls hand over first and hold nothing up). False runs them on the event threads
    /// always.
    /// </summary>
    /// <exception cref="ArgumentException"><c>events.poll</c> set to true: this binding delivers events on libqix's
    /// threads, not where the host polls.</exception>
    public SessionOptions Set(string name, bool value)
    {
        if (value && name == "events.poll")
        {
            throw new ArgumentException(
                $"{name} is not supported by the C# binding: calls complete and events run on libqix's threads",
                nameof(name));
        }
        using var lease = _native.Acquire();
        lease.Native.SetBool(name ?? throw new ArgumentNullException(nameof(name)), value);
        return this;
    }

    /// <summary>Adds an HTTP header to the WebSocket upgrade (e.g. Authorization). Values are secrets: never logged.</summary>
    public SessionOptions AddHeader(string name, string value)
    {
        using var lease = _native.Acquire();
        lease.Native.AddHeader(name, value);
        return this;
    }

    /// <summary>Adds a cookie.</summary>
    public SessionOptions AddCookie(string name, string value)
    {
        using var lease = _native.Acquire();
        lease.Native.AddCookie(name, value);
        return this;
    }

    /// <summary>Adds a query parameter to the URL built from the <c>url.*</c> parts.</summary>
    public SessionOptions AddUrlParam(string name, string value)
    {
        using var lease = _native.Acquire();
        lease.Native.AddUrlParam(name, value);
        return this;
    }

    /// <summary>
    /// Logs every JSON-RPC frame of the sessions opened with these options, as sent or received (frames
    /// never carry HTTP headers, so no credentials). <paramref name="log"/> runs on the thread pool, one frame
    /// at a time, in order; null removes the log. Meant for debugging: each call keeps a small forwarding
    /// object for the life of the process, since sessions may log until their last frame.
    /// </summary>
    public SessionOptions SetTrafficLog(Action<TrafficDirection, string>? log)
    {
        using var lease = _native.Acquire();
        TrafficLog? sink = log == null ? null : new TrafficLog(log);
        if (sink != null) TrafficLog.Root(sink);
        QixNative.set_traffic_sink(lease.Native, sink);
        return this;
    }

    /// <summary>
    /// Whether the tasks of this session's calls may run their continuations synchronously, on the libqix
    /// event thread that delivered the answer (the way <c>System.Threading.Channels</c> names the same choice).
    /// True (the default): an <c>await</c> of a call resumes on libqix's event thread, and a call it issues
    /// leaves in the same write as the calls of the other answers delivered with it, as a C callback's do:
    /// a quarter to a half less CPU per call than the thread pool's way when many are in flight, half at one
    /// call in flight (docs/performance.md).
    /// While a continuation runs there, this session's later answers wait for it; one still running after
    /// 10–20 ms (it blocks: <c>.Result</c> or <c>.Wait()</c> on another call's task, a lock, a semaphore, or
    /// it computes at length) is left to go on while a watchdog hands the session's later answers to another
    /// event thread, so that nothing waits for it for long and nothing it waits for can be held up by it. The
    /// binding's blocking calls (<c>Call</c>, <c>Session.Open</c>) hand over at once. Long work still belongs
    /// after an <c>await Task.Yield()</c>, which moves it to the thread pool, and so does work that must not
    /// run beside the session's later continuations.
    /// False: tasks complete on the thread pool (a drainer settles each socket read's answers there): a
    /// continuation never delays another answer, for more CPU per call.
    /// Events (<c>Changed</c>, <c>StateChanged</c>, notifications) are raised on the thread pool either way.
    /// Read when a session opens (<see cref="Session.Open"/>, <c>Session.OpenAsync</c>); not a libqix
    /// option (not in <see cref="Describe"/>).
    /// </summary>
    public bool AllowSynchronousContinuations { get; set; } = true;

    /// <summary>The URL these options describe (<c>url</c>, else built from the <c>url.*</c> parts as enigma.js does).</summary>
    public string Url
    {
        get
        {
            using var lease = _native.Acquire();
            return lease.Native.Url();
        }
    }

    internal NativeRef<NativeOptions>.Lease Acquire() => _native.Acquire();

    /// <summary>Releases the native options. Idempotent.</summary>
    public void Dispose() => _native.Close();
}

/// <summary>The direction of a frame in the traffic log (<see cref="SessionOptions.SetTrafficLog"/>).</summary>
public enum TrafficDirection
{
    /// <summary>A frame the client sent.</summary>
    Sent,
    /// <summary>A frame the client received.</summary>
    Received,
}

/// <summary>The traffic log's director: runs on a libqix thread and only enqueues.</summary>
internal sealed class TrafficLog : NativeTrafficSink
{
    private static readonly System.Collections.Concurrent.ConcurrentBag<TrafficLog> s_rooted = new();
    private readonly Action<TrafficDirection, string> _log;
    private readonly EventQueue _queue = new();

    public TrafficLog(Action<TrafficDirection, string> log) => _log = log;

    public static void Root(TrafficLog log) => s_rooted.Add(log);

    public override void OnFrame(bool sent, string frame)
    {
        try
        {
            TrafficDirection direction = sent ? TrafficDirection.Sent : TrafficDirection.Received;
            _queue.Post(() =>
            {
                try
                {
                    _log(direction, frame);
                }
                catch (Exception e)
                {
                    QixDiagnostics.ReportHandlerException(null, "TrafficLog", e);
                }
            });
        }
        catch (Exception e)
        {
            QixDiagnostics.ReportHandlerException(null, "TrafficLog", e);
        }
        GC.KeepAlive(this);
    }
}

/// <summary>
/// A group of libqix threads (I/O threads and dispatcher threads) that sessions share. Sessions opened
/// without one use a process-wide default context. Disposing a context while sessions still use it is safe:
/// they keep its threads until they are disposed.
/// </summary>
public sealed class Context : IDisposable, IAsyncDisposable
{
    private readonly NativeRef<NativeContext> _native;

    /// <summary>Starts a context; 0 means the default (1 I/O thread, 2 dispatcher threads).</summary>
    public Context(int ioThreads = 0, int dispatcherThreads = 0)
    {
        if (ioThreads < 0) throw new ArgumentOutOfRangeException(nameof(ioThreads));
        if (dispatcherThreads < 0) throw new ArgumentOutOfRangeException(nameof(dispatcherThreads));
        _native = new NativeRef<NativeContext>(new NativeContext(ioThreads, dispatcherThreads), nameof(Context));
    }

    internal NativeRef<NativeContext>.Lease Acquire() => _native.Acquire();

    /// <summary>
    /// Sets how long this context's I/O thread may poll its sockets before it sleeps, in microseconds (0 to
    /// 1,000,000; 0: never). It polls only while answers have been coming that fast (a call at a time to a
    /// nearby engine), which shortens each round trip for a core kept busy meanwhile. The default is 50, or the
    /// environment variable <c>QIX_IO_SPIN_US</c> (read when a context is made). Any thread; takes effect at
    /// the I/O thread's next wait (<c>qix_context_set_io_spin</c>, docs/c-api.md, Threads).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Out of range.</exception>
    /// <exception cref="ObjectDisposedException">The context was disposed.</exception>
    public void SetIoSpin(int microseconds)
    {
        if (microseconds < 0 || microseconds > 1_000_000) throw new ArgumentOutOfRangeException(nameof(microseconds));
        using var lease = _native.Acquire();
        lease.Native.SetIoSpin(microseconds);
    }

    /// <summary>Releases this reference to the context. Idempotent.</summary>
    public void Dispose() => _native.Close();

    /// <summary>Same as <see cref="Dispose"/>.</summary>
    public System.Threading.Tasks.ValueTask DisposeAsync()
    {
        Dispose();
        return default;
    }
}
