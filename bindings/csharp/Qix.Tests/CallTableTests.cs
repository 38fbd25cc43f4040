using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Qix.Internal;
using Xunit;

namespace Qix.Tests;

/// <summary>
/// The table of calls in flight (slots found by the token's index, the slot's generation in its high bits),
/// on its own, then through the binding: stale tokens find nothing, the table grows, every call completes
/// exactly once, cancellation and Dispose still end every call.
/// </summary>
public sealed class CallTableTests : IDisposable
{
    // GetLayout and Evaluate stay pending in the engine until cancelled.
    private readonly Simulator _sim = Simulator.Start(Simulator.HoldingCalculations);

    public void Dispose() => _sim.Dispose();

    private sealed class Item
    {
    }

    [Fact]
    public void AStaleTokenFindsNothingEvenWhenItsSlotIsReused()
    {
        var table = new CallTable<Item>(4);
        var a = new Item();
        long ta = table.Add(a);
        Assert.True(ta > 0);
        Assert.Equal(1, table.Count);
        Assert.Same(a, table.Take(ta));
        Assert.Null(table.Take(ta));  // taken already
        var b = new Item();
        long tb = table.Add(b);  // the slot a had, reused
        Assert.Equal(ta & 0xFFFF_FFFFL, tb & 0xFFFF_FFFFL);
        Assert.NotEqual(ta, tb);
        Assert.Null(table.Take(ta));  // a's token does not find b
        Assert.Equal(1, table.Count);
        Assert.Same(b, table.Take(tb));
        Assert.Equal(0, table.Count);
        // Tokens that were never handed out.
        Assert.Null(table.Take(0));
        Assert.Null(table.Take(-1));
        Assert.Null(table.Take((1L << 32) | 3));  // a slot never used
        Assert.Null(table.Take((1L << 32) | 1_000_000));  // beyond the array
    }

    [Fact]
    public void ASlotReusedManyTimesNeverGivesATokenTwice()
    {
        var table = new CallTable<Item>(1);
        var seen = new HashSet<long>();
        for (int i = 0; i < 100_000; i++)
        {
            long token = table.Add(new Item());
            Assert.True(token > 0 && token < (1L << 61));  // the shim shifts it left two bits
            Assert.True(seen.Add(token));
            Assert.NotNull(table.Take(token));
        }
        Assert.Equal(1, table.Capacity);
    }

    [Fact]
    public void TheTableGrowsAndKeepsEveryEntry()
    {
        var table = new CallTable<Item>(2);
        var items = Enumerable.Range(0, 5000).Select(_ => new Item()).ToArray();
        long[] tokens = items.Select(table.Add).ToArray();
        Assert.Equal(items.Length, tokens.Distinct().Count());
        Assert.Equal(items.Length, table.Count);
        Assert.True(table.Capacity >= items.Length);
        // Taken in another order than added: each token finds its own entry, once.
        for (int i = items.Length - 1; i >= 0; i -= 2) Assert.Same(items[i], table.Take(tokens[i]));
        for (int i = 0; i < items.Length; i += 2) Assert.Same(items[i], table.Take(tokens[i]));
        Assert.All(tokens, t => Assert.Null(table.Take(t)));
        Assert.Equal(0, table.Count);
    }

    [Fact]
    public void ConcurrentAddsAndTakesFindEachEntryExactlyOnce()
    {
        var table = new CallTable<Item>(1);
        const int Threads = 4, PerThread = 20_000;
        var tokens = new ConcurrentQueue<(long Token, Item Item)>();
        int done = 0, wrong = 0;
        var workers = Enumerable.Range(0, Threads).Select(w => new Thread(() =>
        {
            for (int i = 0; i < PerThread; i++)
            {
                var item = new Item();
                tokens.Enqueue((table.Add(item), item));
                // Take someone's entry (maybe another thread's), and sometimes a stale token twice.
                if (tokens.TryDequeue(out var entry))
                {
                    Item? taken = table.Take(entry.Token);
                    if (!ReferenceEquals(entry.Item, taken)) Interlocked.Increment(ref wrong);
                    if (table.Take(entry.Token) != null) Interlocked.Increment(ref wrong);
                }
            }
            Interlocked.Increment(ref done);
        })).ToList();
        workers.ForEach(t => t.Start());
        workers.ForEach(t => t.Join());
        Assert.Equal(Threads, done);
        Assert.Equal(0, wrong);
        while (tokens.TryDequeue(out var entry)) Assert.Same(entry.Item, table.Take(entry.Token));
        Assert.Equal(0, table.Count);
    }

    [Fact]
    public async Task MoreCallsInFlightThanTheTableHadSlotsEachCompleteOnce()
    {
        await using Session session = await Session.OpenAsync(_sim.AppUrl()).Within();
        int before = Calls.PendingCount;
        // 3000 at once (the table starts with 256 slots), issued from several threads.
        Task<QixResult>[][] calls = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(() =>
            Enumerable.Range(0, 500).Select(__ => session.CallAsync("EngineVersion")).ToArray())));
        QixResult[] results = await Task.WhenAll(calls.SelectMany(c => c)).Within();
        Assert.Equal(3000, results.Select(r => r.RequestId).Distinct().Count());
        Assert.All(results, r => Assert.Contains("qComponentVersion", r.Json));
        Assert.Equal(0, session.PendingCalls);
        Assert.Equal(before, Calls.PendingCount);
    }

    [Fact]
    public async Task CancellingAndDisposingEndEveryCallOfAGrownTable()
    {
        Session session = await Session.OpenAsync(_sim.AppUrl()).Within();
        QixObject doc = await session.OpenDocAsync("demo").Within();
        int before = Calls.PendingCount;
        const int Held = 600;
        using var cts = new CancellationTokenSource();
        // Held in the engine: half of them cancelled, the rest failed by Dispose.
        Task<QixResult>[] cancelled = Enumerable.Range(0, Held / 2)
            .Select(i => doc.CallAsync("Evaluate", QixJson.Params($"Sum(Sales)+{i}"), cts.Token)).ToArray();
        Task<QixResult>[] failed = Enumerable.Range(0, Held / 2)
            .Select(i => doc.CallAsync("Evaluate", QixJson.Params($"Sum(Sales)-{i}"))).ToArray();
        // Answered calls in between: they reuse slots while the held ones keep theirs.
        for (int i = 0; i < 20; i++) Assert.Contains("qComponentVersion", (await session.CallAsync("EngineVersion").Within()).Json);
        Assert.Equal(Held, session.PendingCalls);
        Assert.True(Calls.PendingCount >= before + Held);
        cts.Cancel();
        foreach (Task<QixResult> call in cancelled)
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.Within());
        Assert.All(cancelled, c => Assert.True(c.IsCanceled));
        session.Dispose();
        foreach (Task<QixResult> call in failed)
        {
            var e = await Assert.ThrowsAsync<QixException>(() => call.Within());
            Assert.Equal(QixStatus.Closed, e.Status);
        }
        Assert.Equal(0, session.PendingCalls);
        Assert.Equal(before, Calls.PendingCount);
    }

    [Fact]
    public async Task MethodAndParamsReachTheEngineAsSentAnyLengthAnyText()
    {
        var traffic = new TrafficRecorder();
        using var options = new SessionOptions(_sim.AppUrl()).SetTrafficLog(traffic.Log);
        Session session = await Session.OpenAsync(options).Within();
        QixObject doc = await session.OpenDocAsync("demo").Within();
        // Non-ASCII text (2, 3 and 4 bytes in UTF-8), and params too long for the stack buffer (pooled).
        string small = "Sum(Sales) & 'é€😀'";
        string large = "'" + new string('x', 3000) + "€" + new string('y', 3000) + "'";
        // Written by hand: JSON encoders escape some of it (\uD83D\uDE00), the test wants the raw UTF-8.
        Task<QixResult> a = doc.CallAsync("Evaluate", "[\"" + small + "\"]");
        Task<QixResult> b = doc.CallAsync("Evaluate", "[\"" + large + "\"]");
        await traffic.UntilCount(TrafficDirection.Sent, 1, "\"Evaluate\"", small).Within();
        await traffic.UntilCount(TrafficDirection.Sent, 1, "\"Evaluate\"", large).Within();
        session.Dispose();  // the engine holds both: Dispose fails them
        Assert.Equal(QixStatus.Closed, (await Assert.ThrowsAsync<QixException>(() => a.Within())).Status);
        Assert.Equal(QixStatus.Closed, (await Assert.ThrowsAsync<QixException>(() => b.Within())).Status);
    }

    [Fact]
    public async Task ACallLibqixRefusesFaultsAndLeavesNothingInTheTable()
    {
        await using Session session = await Session.OpenAsync(_sim.AppUrl()).Within();
        int before = Calls.PendingCount;
        // Refused before it is issued (no method; params that are no JSON): the shim's error, no completion.
        var empty = await Assert.ThrowsAsync<QixException>(() => session.CallAsync("").Within());
        Assert.Equal(QixStatus.InvalidArgument, empty.Status);
        var notJson = await Assert.ThrowsAsync<QixException>(() => session.CallAsync("EngineVersion", "[1,").Within());
        Assert.NotEqual(QixStatus.Ok, notJson.Status);
        // The same from a continuation (sent by the drainer, deferred): faulted once, by a drainer.
        Task<QixException> fromContinuation = session.CallAsync("EngineVersion").ContinueWith(async _ =>
            await Assert.ThrowsAsync<QixException>(() => session.CallAsync("")), CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).Unwrap();
        Assert.Equal(QixStatus.InvalidArgument, (await fromContinuation.Within()).Status);
        Assert.Equal(0, session.PendingCalls);
        Assert.Equal(before, Calls.PendingCount);
        // The session goes on.
        Assert.Contains("qComponentVersion", (await session.CallAsync("EngineVersion").Within()).Json);
    }

    [Fact]
    public async Task TheUnwrappedResultIsReadFromTheWholeOneWhenItIsAPartOfIt()
    {
        await using Session session = await Session.OpenAsync(_sim.AppUrl()).Within();
        // qVersion is the only out value: Json is a part of RawJson, decoded from the one copy.
        QixResult version = await session.CallAsync("EngineVersion").Within();
        Assert.StartsWith("{\"qComponentVersion\"", version.Json);
        Assert.Equal(version.Raw.GetProperty("qVersion").GetRawText(), version.Json);
        Assert.Equal(version.Raw.GetProperty("qVersion").GetProperty("qComponentVersion").GetString(),
                     version.Value.GetProperty("qComponentVersion").GetString());
        Assert.Contains(version.Json, version.RawJson);
        // The typed API's calls read the whole result only: it comes without the unwrapped text.
        QixResult typed = await ((QixObject)session.Global).CallTypedAsync("EngineVersion", "{}", null, default).Within();
        Assert.Equal(version.RawJson, typed.RawJson);
        Assert.Throws<InvalidOperationException>(() => typed.Json);
        Assert.Equal(version.Value.GetProperty("qComponentVersion").GetString(),
                     Qix.Api.ApiCall.Member<Qix.Api.NxEngineVersion>(typed, "qVersion").ComponentVersion);
        // qReturn (a string): again a part of the whole.
        QixResult product = await session.CallAsync("QTProduct").Within();
        Assert.Equal("{\"qReturn\":\"Qlik Sense\"}", product.RawJson);
        Assert.Equal("\"Qlik Sense\"", product.Json);
        Assert.Equal("Qlik Sense", product.Value.GetString());
        // A result whose object is adopted (the shim's other path): the same.
        QixResult open = await session.CallAsync("OpenDoc", QixJson.Params("demo")).Within();
        await using QixObject doc = open.Object!;
        Assert.Equal(open.Raw.GetProperty("qReturn").GetRawText(), open.Json);
        Assert.Equal("Doc", open.Value.GetProperty("qType").GetString());
        // The same object every time (parsed once), from any thread.
        QixResult[] again = { version };
        var values = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => again[0].Value.GetRawText())));
        Assert.All(values, v => Assert.Equal(version.Json, v));
    }
}
