using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Qix.Tests;

/// <summary>
/// The engine simulator (qix-engine-sim, named by the environment variable QIX_ENGINE_SIM) as a child
/// process on a free loopback port. Each test starts the one it needs and disposes it (kills the process).
/// </summary>
public sealed class Simulator : IDisposable
{
    private readonly Process _process;

    private Simulator(Process process, string url)
    {
        _process = process;
        Url = url;
    }

    /// <summary>
    /// Flags for <see cref="Start"/>: layouts, data pages and expressions are answered only after an hour, so
    /// such calls stay pending until the test ends them (a cancel, a close, a kill, or a CancelRequest naming
    /// them, which the simulator answers at once with error 15 "Request aborted"). Other calls are not delayed.
    /// </summary>
    public static readonly string[] HoldingCalculations = { "--calc-delay-ms", "3600000" };

    /// <summary>ws://127.0.0.1:PORT</summary>
    public string Url { get; }

    /// <summary>The WebSocket URL of an app (the built-in <c>demo</c> by default).</summary>
    public string AppUrl(string app = "demo") => $"{Url}/app/{app}";

    public static Simulator Start(params string[] flags)
    {
        string? path = Environment.GetEnvironmentVariable("QIX_ENGINE_SIM");
        if (string.IsNullOrEmpty(path) || !File.Exists(path))
            throw new InvalidOperationException(
                "QIX_ENGINE_SIM must name the qix-engine-sim executable (CTest sets it; run the tests with ctest -R csharp)");
        var info = new ProcessStartInfo(path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("--host");
        info.ArgumentList.Add("127.0.0.1");
        info.ArgumentList.Add("--port");
        info.ArgumentList.Add("0");
        foreach (string flag in flags) info.ArgumentList.Add(flag);
        var process = Process.Start(info) ?? throw new InvalidOperationException("cannot start " + path);
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        Task<string?> line = process.StandardOutput.ReadLineAsync();
        if (!line.Wait(TimeSpan.FromSeconds(30)) || line.Result == null || !line.Result.StartsWith("listening on "))
        {
            process.Kill();
            throw new InvalidOperationException("the simulator did not start: " + line.Result);
        }
        return new Simulator(process, line.Result.Substring("listening on ".Length).Trim());
    }

    /// <summary>Kills the simulator: its connections drop without a close frame.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit(10_000);
        }
    }

    public void Dispose()
    {
        try
        {
            Kill();
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
        _process.Dispose();
    }
}

/// <summary>Shared scenario helpers.</summary>
public static class Scenario
{
    /// <summary>
    /// How long <see cref="Within{T}"/> waits before it fails the test: a hang guard, not a speed check (a hung
    /// await fails its own test with a message instead of the whole CTest run at its timeout). Generous, as the
    /// Go tests' 60 s context, so that a loaded machine (sanitizer builds alongside, 2 cores) never trips it.
    /// </summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    /// <summary>Properties of a hypercube session object: Region with Sum(Sales), all rows fetched initially.</summary>
    public const string RegionSalesCube =
        @"{""qInfo"":{""qType"":""table""},""qHyperCubeDef"":{""qDimensions"":[{""qDef"":{""qFieldDefs"":[""Region""]}}]," +
        @"""qMeasures"":[{""qDef"":{""qDef"":""Sum(Sales)""}}],""qInitialDataFetch"":[{""qTop"":0,""qLeft"":0,""qWidth"":2,""qHeight"":50}]}}";

    /// <summary>Awaits <paramref name="task"/>, failing the test after <see cref="Patience"/>.</summary>
    public static async Task<T> Within<T>(this Task<T> task, TimeSpan? patience = null)
    {
        Task done = await Task.WhenAny(task, Task.Delay(patience ?? Patience));
        if (done != task) throw new TimeoutException("the operation did not complete in time");
        return await task;
    }

    /// <summary>Awaits <paramref name="task"/>, failing the test after <see cref="Patience"/>.</summary>
    public static async Task Within(this Task task, TimeSpan? patience = null)
    {
        Task done = await Task.WhenAny(task, Task.Delay(patience ?? Patience));
        if (done != task) throw new TimeoutException("the operation did not complete in time");
        await task;
    }

    /// <summary>Selects <paramref name="value"/> in the field <paramref name="field"/> of the doc.</summary>
    public static async Task SelectAsync(QixObject doc, string field, string value)
    {
        using QixObject f = await doc.GetFieldAsync(field) ?? throw new InvalidOperationException("no field " + field);
        QixResult r = await f.CallAsync("Select", QixJson.Params(value));
        Assert.True(r.Value.GetBoolean());
    }

    /// <summary>The sum of the measure column over the rows of a hypercube layout's first data page.</summary>
    public static double GrandTotal(System.Text.Json.JsonElement layout)
    {
        double total = 0;
        foreach (var row in layout.GetProperty("qHyperCube").GetProperty("qDataPages")[0].GetProperty("qMatrix").EnumerateArray())
            total += row[1].GetProperty("qNum").GetDouble();
        return total;
    }

    /// <summary>Forces full garbage collections, running finalizers in between.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void CollectGarbage()
    {
        for (int i = 0; i < 3; i++)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }
    }

    /// <summary>A signal for an event handler: completed (with whether it ran on the thread pool) by <see cref="SetOn"/>.</summary>
    public static TaskCompletionSource<bool> Signal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static void SetOn(TaskCompletionSource<bool> tcs) => tcs.TrySetResult(Thread.CurrentThread.IsThreadPoolThread);

    /// <summary>The JSON-RPC id of a request frame.</summary>
    public static long RequestId(string frame)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(frame);
        return doc.RootElement.GetProperty("id").GetInt64();
    }
}

/// <summary>
/// Items added from any thread (frames of a traffic log, events), and waits for a condition over them that
/// are woken by each addition, never by a clock: <c>await recorder.Until(items =&gt; ...).Within()</c>.
/// </summary>
public sealed class Recorder<T>
{
    private readonly object _gate = new();
    private readonly List<T> _items = new();
    private readonly List<(Func<IReadOnlyList<T>, bool> Condition, TaskCompletionSource<bool> Done)> _waiters = new();

    public void Add(T item)
    {
        var met = new List<TaskCompletionSource<bool>>();
        lock (_gate)
        {
            _items.Add(item);
            _waiters.RemoveAll(w =>
            {
                if (!w.Condition(_items)) return false;
                met.Add(w.Done);
                return true;
            });
        }
        foreach (TaskCompletionSource<bool> done in met) done.TrySetResult(true);
    }

    /// <summary>Completes once <paramref name="condition"/> holds over the items (at once if it already does).</summary>
    public Task Until(Func<IReadOnlyList<T>, bool> condition)
    {
        lock (_gate)
        {
            if (condition(_items)) return Task.CompletedTask;
            var done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((condition, done));
            return done.Task;
        }
    }

    public T[] Snapshot()
    {
        lock (_gate) return _items.ToArray();
    }
}

/// <summary>A session's traffic log as a <see cref="Recorder{T}"/> of (direction, frame).</summary>
public sealed class TrafficRecorder
{
    public Recorder<(TrafficDirection Direction, string Frame)> Frames { get; } = new();

    public void Log(TrafficDirection direction, string frame) => Frames.Add((direction, frame));

    /// <summary>Completes once <paramref name="count"/> frames in <paramref name="direction"/> contain every one of <paramref name="parts"/>.</summary>
    public Task UntilCount(TrafficDirection direction, int count, params string[] parts) =>
        Frames.Until(frames => Count(frames, direction, parts) >= count);

    /// <summary>The frames in <paramref name="direction"/> that contain every one of <paramref name="parts"/>.</summary>
    public string[] Matching(TrafficDirection direction, params string[] parts)
    {
        var found = new List<string>();
        foreach ((TrafficDirection d, string f) in Frames.Snapshot())
            if (d == direction && Array.TrueForAll(parts, p => f.Contains(p))) found.Add(f);
        return found.ToArray();
    }

    private static int Count(IReadOnlyList<(TrafficDirection Direction, string Frame)> frames, TrafficDirection direction,
                             string[] parts)
    {
        int n = 0;
        foreach ((TrafficDirection d, string f) in frames)
            if (d == direction && Array.TrueForAll(parts, p => f.Contains(p))) n++;
        return n;
    }
}
