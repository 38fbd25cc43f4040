using System;
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
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

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
}
