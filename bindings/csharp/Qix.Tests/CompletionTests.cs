using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace Qix.Tests;

/// <summary>
/// How calls complete on a session opened with SessionOptions.AllowSynchronousContinuations false (the
/// default's way is SynchronousContinuationTests'): settled in batches by drainers on the thread pool,
/// continuations run there (never on a libqix thread), the calls they issue sent together; each call
/// completes exactly once, errors and cancellations included, and a continuation that blocks on a call it
/// issued does not hang.
/// </summary>
public sealed class CompletionTests : IDisposable
{
    // GetLayout and Evaluate stay pending in the engine until cancelled.
    private readonly Simulator _sim = Simulator.Start(Simulator.HoldingCalculations);

    public void Dispose() => _sim.Dispose();

    private async Task<Session> OpenOnThePoolAsync()
    {
        using var options = new SessionOptions(_sim.AppUrl()) { AllowSynchronousContinuations = false };
        return await Session.OpenAsync(options).ConfigureAwait(false);
    }

    private static void AssertNotALibqixThread(ConcurrentBag<string> names)
    {
        foreach (string name in names) Assert.False(name.StartsWith("qix-", StringComparison.Ordinal), name);
    }

    [Fact]
    public async Task PipelinedCallsEachCompleteOnceOffLibqixThreads()
    {
        await using Session session = await OpenOnThePoolAsync().Within();
        const int window = 64;
        const int calls = 4000;
        long issued = 0, ok = 0;
        var seen = new ConcurrentDictionary<long, int>();
        var threads = new ConcurrentBag<string>();
        async Task Chain()
        {
            while (Interlocked.Increment(ref issued) <= calls)
            {
                QixResult r = await session.CallAsync("EngineVersion");
                threads.Add(Thread.CurrentThread.Name ?? "");
                Assert.True(Thread.CurrentThread.IsThreadPoolThread);
                Assert.Contains("qComponentVersion", r.Json);
                seen.AddOrUpdate(r.RequestId, 1, (_, n) => n + 1);
                Interlocked.Increment(ref ok);
            }
        }
        // Started on the thread pool: a call answered before its await looks (the test's thread preempted in
        // between, on a loaded host) continues inline on the thread that issued it, which must not be the
        // test runner's own thread for the assertion above.
        var chains = new Task[window];
        for (int i = 0; i < window; i++) chains[i] = Task.Run(Chain);
        await Task.WhenAll(chains).Within();
        Assert.Equal(calls, Interlocked.Read(ref ok));
        Assert.Equal(calls, seen.Count);  // a distinct request per completion: none completed twice
        Assert.All(seen.Values, n => Assert.Equal(1, n));
        AssertNotALibqixThread(threads);
        Assert.Equal(0, session.PendingCalls);
    }

    [Fact]
    public async Task ErrorsAndCancellationsIssuedFromContinuationsAreDelivered()
    {
        await using Session session = await OpenOnThePoolAsync().Within();
        await using QixObject doc = await session.OpenDocAsync("demo").Within();
        const int rounds = 50;
        var threads = new ConcurrentBag<string>();
        async Task Round()
        {
            await session.CallAsync("EngineVersion");
            // From the continuation (run by a drainer): an engine error, a call cancelled while pending in the
            // engine, and a good call, all issued together.
            using var cts = new CancellationTokenSource();
            Task<QixResult> bad = session.CallAsync("NoSuchMethod");
            Task<QixResult> held = doc.CallAsync("Evaluate", QixJson.Params("Sum(Sales)"), cts.Token);
            Task<QixResult> good = session.CallAsync("EngineVersion");
            var e = await Assert.ThrowsAsync<QixException>(() => bad);
            threads.Add(Thread.CurrentThread.Name ?? "");
            Assert.Equal(-32601, e.EngineCode);
            Assert.Contains("qComponentVersion", (await good).Json);
            threads.Add(Thread.CurrentThread.Name ?? "");
            cts.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => held);
            threads.Add(Thread.CurrentThread.Name ?? "");
            Assert.True(held.IsCanceled);
        }
        var all = new Task[rounds];
        for (int i = 0; i < rounds; i++) all[i] = Round();
        await Task.WhenAll(all).Within();
        AssertNotALibqixThread(threads);
        Assert.Equal(0, session.PendingCalls);
    }

    [Fact]
    public async Task AContinuationThatBlocksOnACallItIssuedDoesNotHang()
    {
        await using Session session = await OpenOnThePoolAsync().Within();
        Task<QixResult> first = session.CallAsync("EngineVersion");
        // ExecuteSynchronously: runs where the first task is settled, on the drainer, which sends the calls
        // its continuations issue only when they return; this one blocks until its own call is answered.
        Task<string> blocked = first.ContinueWith(_ =>
        {
            string name = Thread.CurrentThread.Name ?? "";
            QixResult second = session.CallAsync("EngineVersion").GetAwaiter().GetResult();
            QixResult third = session.Call("EngineVersion");  // a blocking call of the binding, too
            Assert.Contains("qComponentVersion", second.Json);
            Assert.Contains("qComponentVersion", third.Json);
            return name;
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        string thread = await blocked.Within();
        Assert.False(thread.StartsWith("qix-", StringComparison.Ordinal), thread);
        Assert.Equal(0, session.PendingCalls);
    }
}
