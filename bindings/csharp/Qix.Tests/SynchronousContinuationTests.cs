using System;
using System.Collections.Concurrent;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace Qix.Tests;

/// <summary>
/// SessionOptions.AllowSynchronousContinuations (the default): the calls' tasks complete on libqix's event
/// thread and run their continuations there (with it false, on the thread pool: CompletionTests); every call
/// completes exactly once, errors and cancellations included; a blocking call of the binding made there works
/// (the session's later events are handed to another event thread first), also among many pipelined calls;
/// a continuation that waits for another call's answer, for a call it issued itself, or for another
/// continuation, is freed by the watchdog; events stay on the pool.
/// </summary>
public sealed class SynchronousContinuationTests : IDisposable
{
    // GetLayout and Evaluate stay pending in the engine until cancelled.
    private readonly Simulator _sim = Simulator.Start(Simulator.HoldingCalculations);

    public void Dispose() => _sim.Dispose();

    // The calling thread's name as the kernel knows it: libqix names its I/O threads "qix-io" and its
    // dispatcher threads "qix-ev" (a native thread the runtime adopted has no Thread.Name), the thread pool's are
    // ".NET TP Worker".
    private static string OsThreadName() => File.ReadAllText("/proc/thread-self/comm").Trim();

    // Calls complete on the I/O thread that read their answers (events.inline, the default) or, when the
    // session's events queue up, on an event thread: either is libqix's event delivery.
    private static bool IsEventThread(string name) => name == "qix-ev" || name == "qix-io";

    // Runs body in a continuation on libqix's event thread, whatever the timing: the continuation is attached to
    // a call the engine holds (this simulator delays calculations for an hour), so no answer can come before it
    // is; cancelling the call sends the engine's CancelRequest, and libqix delivers the call's end (cancelled)
    // on the event thread, where the continuation, attached to run synchronously, runs. (Awaiting a quick
    // call from the thread pool until an await resumes on the event thread instead lost the race to the
    // answer every time on a fast host: libqix's I/O thread polls for answers that come that fast.)
    private static async Task<T> OnTheEventThreadAsync<T>(QixObject doc, Func<T> body)
    {
        using var cts = new CancellationTokenSource();
        Task<QixResult> held = doc.CallAsync("Evaluate", QixJson.Params("Sum(Sales)"), cts.Token);
        Task<T> inside = held.ContinueWith(_ =>
        {
            Assert.True(IsEventThread(OsThreadName()), OsThreadName());
            return body();
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        cts.Cancel();
        return await inside.ConfigureAwait(false);
    }

    // synchronous null: the options as a new SessionOptions has them (the default, true).
    private Task<Session> OpenAsync(bool? synchronous, Simulator? sim = null)
    {
        var options = new SessionOptions((sim ?? _sim).AppUrl());
        if (synchronous is bool allow) options.AllowSynchronousContinuations = allow;
        Task<Session> open = Session.OpenAsync(options);
        open.ContinueWith(_ => options.Dispose(), TaskScheduler.Default);
        return open;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    [InlineData(null)]
    public async Task ContinuationsRunOnTheEventThreadOnlyWhenAllowed(bool? allow)
    {
        bool synchronous = allow ?? true;  // the default
        await using Session session = await OpenAsync(allow).Within();
        const int window = 16;
        const int calls = 2000;
        long issued = 0, ok = 0;
        var seen = new ConcurrentDictionary<long, int>();
        var threads = new ConcurrentBag<string>();
        long handOversBefore = Qix.Internal.ContinuationWatchdog.HandOvers;
        async Task Chain()
        {
            string issuedOn = OsThreadName();
            while (Interlocked.Increment(ref issued) <= calls)
            {
                // ConfigureAwait(false): the test runner's synchronization context would take the continuation.
                QixResult r = await session.CallAsync("EngineVersion").ConfigureAwait(false);
                // An await that finds its call answered already goes on where it is (the chain's first, issued
                // from the test, may): only a call issued on the event thread is sure to be answered after its
                // await looked, as that thread delivers the answer once the continuation that issued it returns.
                string resumedOn = OsThreadName();
                if (!synchronous || IsEventThread(issuedOn)) threads.Add(resumedOn);
                issuedOn = resumedOn;
                Assert.Contains("qComponentVersion", r.Json);
                seen.AddOrUpdate(r.RequestId, 1, (_, n) => n + 1);
                Interlocked.Increment(ref ok);
            }
        }
        var chains = new Task[window];
        for (int i = 0; i < window; i++) chains[i] = Task.Run(Chain);
        await Task.WhenAll(chains).Within();
        Assert.Equal(calls, Interlocked.Read(ref ok));
        Assert.Equal(calls, seen.Count);  // a distinct request per completion: none completed twice
        Assert.All(seen.Values, n => Assert.Equal(1, n));
        // Synchronous: all but the first await of each chain, and of those that went on where they were,
        // which are rare (a few, if any, in a run); at least half of them, so that the test means something.
        Assert.True(threads.Count >= (synchronous ? calls / 2 : calls), $"{threads.Count} continuations looked at");
        // An await attached while another event thread delivers its answer (after the watchdog handed the
        // session's events over from a continuation held up for 10 ms or more, on a loaded host) is queued
        // to the pool by .NET: only without a hand-over (process-wide) must every one go on where it was.
        if (!synchronous)
            Assert.All(threads, name => Assert.False(name.StartsWith("qix-", StringComparison.Ordinal), name));
        else if (Qix.Internal.ContinuationWatchdog.HandOvers == handOversBefore)
            Assert.All(threads, name => Assert.True(IsEventThread(name), name));
        Assert.Equal(0, session.PendingCalls);
    }

    [Fact]
    public async Task ErrorsAndCancellationsCompleteOnTheEventThread()
    {
        await using Session session = await OpenAsync(true).Within();
        await using QixObject doc = await session.OpenDocAsync("demo").Within();
        const int rounds = 50;
        var completedOn = new ConcurrentBag<string>();
        var resumedOn = new ConcurrentBag<string>();
        long handOversBefore = Qix.Internal.ContinuationWatchdog.HandOvers;
        // Starts on the event thread (OnTheEventThreadAsync): an engine error, a call cancelled while pending
        // in the engine, and a good call, issued together. Their answers are delivered once this continuation
        // returns at its first await (the session's later events wait behind it), unless the watchdog hands
        // them to another event thread first (this continuation held up for 10 ms or more: a loaded host).
        async Task Checks()
        {
            using var cts = new CancellationTokenSource();
            Task<QixResult> bad = session.CallAsync("NoSuchMethod");
            Task<QixResult> held = doc.CallAsync("Evaluate", QixJson.Params("Sum(Sales)"), cts.Token);
            Task<QixResult> good = session.CallAsync("EngineVersion");
            // Where each task ends: a continuation attached to run synchronously runs on the thread that ends
            // it, or, should it end while being attached (after a hand-over), on this one: an event thread
            // either way. An await is not as sure: in that race .NET queues its continuation to the pool.
            Task badSeen = bad.ContinueWith(_ => completedOn.Add(OsThreadName()), CancellationToken.None,
                                            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            Task heldSeen = held.ContinueWith(_ => completedOn.Add(OsThreadName()), CancellationToken.None,
                                              TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            var e = await Assert.ThrowsAsync<QixException>(() => bad).ConfigureAwait(false);
            resumedOn.Add(OsThreadName());
            Assert.Equal(-32601, e.EngineCode);
            Assert.Contains("qComponentVersion", (await good.ConfigureAwait(false)).Json);
            cts.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => held).ConfigureAwait(false);
            resumedOn.Add(OsThreadName());
            Assert.True(held.IsCanceled);
            await Task.WhenAll(badSeen, heldSeen).ConfigureAwait(false);
        }
        var all = new Task[rounds];
        for (int i = 0; i < rounds; i++)
        {
            all[i] = Task.Run(async () => await (await OnTheEventThreadAsync(doc, Checks).ConfigureAwait(false))
                .ConfigureAwait(false));
        }
        await Task.WhenAll(all).Within();
        Assert.Equal(2 * rounds, completedOn.Count);
        Assert.All(completedOn, name => Assert.True(IsEventThread(name), name));
        // The awaits went on where their tasks ended, unless a hand-over let an answer come while one was
        // being attached (the race above; the watchdog is process-wide, so any hand-over counts).
        Assert.Equal(2 * rounds, resumedOn.Count);
        if (Qix.Internal.ContinuationWatchdog.HandOvers == handOversBefore)
            Assert.All(resumedOn, name => Assert.True(IsEventThread(name), name));
        Assert.Equal(0, session.PendingCalls);
    }

    [Fact]
    public async Task ABlockingCallInASynchronousContinuationWorks()
    {
        await using Session session = await OpenAsync(true).Within();
        // On the event thread (a continuation there), a blocking call would wait for an answer only that
        // thread delivers, so the binding first hands the session's later events to another event thread
        // (qix_session_hand_over_events), and the call is answered.
        await using QixObject doc = await session.OpenDocAsync("demo").Within();
        Task<(string Before, string Answer, string After)> inside = Task.Run(() => OnTheEventThreadAsync(doc, () =>
        {
            string before = OsThreadName();
            string answer = session.Call("EngineVersion").Json;
            return (before, answer, OsThreadName());
        }));
        (string before, string answer, string after) = await inside.Within();
        Assert.True(IsEventThread(before), before);
        Assert.Contains("qComponentVersion", answer);
        Assert.Equal(before, after);  // the continuation went on where it was
        await Task.Yield();  // off the event thread the same holds
        Assert.Contains("qComponentVersion", session.Call("EngineVersion").Json);
        Assert.Contains("qComponentVersion", (await session.CallAsync("EngineVersion").Within()).Json);
        Assert.Equal(0, session.PendingCalls);
    }

    [Fact]
    public async Task BlockingCallsAmongManyPipelinedOnesAllComplete()
    {
        // Chains at window 16 where every seventh continuation makes a blocking call: each of those hands the
        // session's events over while the others go on; every call completes once.
        await using Session session = await OpenAsync(true).Within();
        const int window = 16;
        const int calls = 1400;
        long issued = 0, ok = 0, blocking = 0;
        async Task Chain()
        {
            long n;
            while ((n = Interlocked.Increment(ref issued)) <= calls)
            {
                QixResult r = await session.CallAsync("EngineVersion").ConfigureAwait(false);
                Assert.Contains("qComponentVersion", r.Json);
                Interlocked.Increment(ref ok);
                if (n % 7 == 0)
                {
                    Assert.Contains("qComponentVersion", session.Call("EngineVersion").Json);
                    Interlocked.Increment(ref blocking);
                }
            }
        }
        var chains = new Task[window];
        for (int i = 0; i < window; i++) chains[i] = Task.Run(Chain);
        await Task.WhenAll(chains).Within();
        Assert.Equal(calls, Interlocked.Read(ref ok));
        Assert.Equal(calls / 7, Interlocked.Read(ref blocking));
        Assert.Equal(0, session.PendingCalls);
    }

    [Fact]
    public async Task AContinuationWaitingForALaterAnswerIsFreedByTheWatchdog()
    {
        // On the event thread, a continuation that waits on the task of a call it did not issue (.Result) waits
        // for an answer that thread would deliver only after it returns: the same socket read's next answer,
        // or a later one. The watchdog (Internal/ContinuationWatchdog.cs) sees it held up for a period or two
        // and hands the session's later answers, the rest of that read included, to another event thread.
        await using Session session = await OpenAsync(true).Within();
        await using QixObject doc = await session.OpenDocAsync("demo").Within();
        const int rounds = 20;
        long handOversBefore = Qix.Internal.ContinuationWatchdog.HandOvers;
        int waited = 0;
        for (int i = 0; i < rounds; i++)
        {
            // Issued from a continuation on the event thread, both requests leave when it returns, so the
            // continuation on the first is attached before either answer comes: it runs on the event thread
            // when the first answer is delivered, before the second (delivered after it, on the same queue).
            // Its outcome goes to the test through a task whose own continuations run on the thread pool (the
            // test's code must not go on inline on the event thread, inside that continuation).
            var round = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            await Task.Run(() => OnTheEventThreadAsync(doc, () =>
            {
                Task<QixResult> first = session.CallAsync("EngineVersion");
                Task<QixResult> second = session.CallAsync("EngineVersion");
                return first.ContinueWith(_ =>
                {
                    try
                    {
                        bool waiting = IsEventThread(OsThreadName()) && !second.IsCompleted;
#pragma warning disable xUnit1031  // blocking on a task is the point: it must not hang
                        Assert.Contains("qComponentVersion", second.Result.Json);
#pragma warning restore xUnit1031
                        round.TrySetResult(waiting);
                    }
                    catch (Exception e)
                    {
                        round.TrySetException(e);
                    }
                }, TaskContinuationOptions.ExecuteSynchronously);
            }));
            if (await round.Task.Within()) waited++;
        }
        Assert.Equal(rounds, waited);
        Assert.True(Qix.Internal.ContinuationWatchdog.HandOvers - handOversBefore >= waited,
                    $"{waited} waits, {Qix.Internal.ContinuationWatchdog.HandOvers - handOversBefore} hand-overs");
        Assert.Equal(0, session.PendingCalls);
    }

    [Fact]
    public async Task AContinuationThatBlocksOnACallItIssuedIsFreedByTheWatchdog()
    {
        // Sync over async on the event thread: a continuation issues a call and waits for its task. libqix holds
        // the request until the continuation returns (its output batch), so only the watchdog's hand-over,
        // which sends what the continuation holds and hands the session's later answers to another event
        // thread, lets it be answered.
        await using Session session = await OpenAsync(true).Within();
        await using QixObject doc = await session.OpenDocAsync("demo").Within();
        const int rounds = 5;
        long handOversBefore = Qix.Internal.ContinuationWatchdog.HandOvers;
        Task<int> inside = Task.Run(async () =>
        {
            int onEventThread = 0;
            for (int i = 0; i < rounds; i++)
            {
                await OnTheEventThreadAsync(doc, () =>
                {
                    onEventThread++;
                    QixResult r = session.CallAsync("EngineVersion").GetAwaiter().GetResult();
                    Assert.Contains("qComponentVersion", r.Json);
                    return r;
                }).ConfigureAwait(false);
            }
            return onEventThread;
        });
        Assert.Equal(rounds, await inside.Within());
        Assert.True(Qix.Internal.ContinuationWatchdog.HandOvers - handOversBefore >= rounds);
        Assert.Equal(0, session.PendingCalls);
    }

    [Fact]
    public async Task ContinuationsWaitingForEachOtherAllComplete()
    {
        // Pairs of continuations of one session on the event thread: the first waits on a semaphore the second
        // releases, and the second's answer is delivered only after the watchdog's hand-over; every pair
        // completes.
        await using Session session = await OpenAsync(true).Within();
        await using QixObject doc = await session.OpenDocAsync("demo").Within();
        const int pairs = 10;
        for (int i = 0; i < pairs; i++)
        {
            // On the event thread, calls leave when the continuation that issued them returns, so both
            // continuations below are attached before either answer can come: none runs inline there, on the
            // thread attaching it (which, waiting there, would never attach the other).
            Task both = await Task.Run(() => OnTheEventThreadAsync(doc, () =>
            {
                var gate = new SemaphoreSlim(0);
                Task<QixResult> a = session.CallAsync("EngineVersion");
                Task<QixResult> b = session.CallAsync("EngineVersion");
                Task waiter = a.ContinueWith(_ => gate.Wait(), TaskContinuationOptions.ExecuteSynchronously);
                Task releaser = b.ContinueWith(_ => gate.Release(), TaskContinuationOptions.ExecuteSynchronously);
                return Task.WhenAll(waiter, releaser);
            }));
            await both.Within();
        }
        Assert.Equal(0, session.PendingCalls);
    }

    [Fact]
    public async Task TheWatchdogForgetsThreadsThatEnded()
    {
        // A slot per event thread that ran a continuation; one whose thread has ended (a disposed Context's) is
        // dropped, so that the watchdog's list does not grow with every context a process ever made.
        await using Session session = await OpenAsync(true).Within();
        bool watched = false;
        var thread = new Thread(() =>
        {
            var slot = Qix.Internal.ContinuationWatchdog.Enter(session);
            Qix.Internal.ContinuationWatchdog.Exit(slot);
            watched = Qix.Internal.ContinuationWatchdog.Watches(Thread.CurrentThread);
        });
        thread.Start();
        thread.Join();
        Assert.True(watched);
        Qix.Internal.ContinuationWatchdog.Prune();
        Assert.False(Qix.Internal.ContinuationWatchdog.Watches(thread));
    }

    [Fact]
    public async Task EventsStayOnTheThreadPool()
    {
        using Simulator sim = Simulator.Start();  // one that answers GetLayout
        await using Session session = await OpenAsync(true, sim).Within();
        await using QixObject doc = await session.OpenDocAsync("demo").Within();
        await using QixObject cube = await doc.CreateSessionObjectAsync(Scenario.RegionSalesCube).Within();
        await cube.GetLayoutAsync().Within();
        var changedOn = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        cube.Changed += (_, _) => changedOn.TrySetResult(OsThreadName());
        await Scenario.SelectAsync(doc, "Category", "Bikes").Within();
        string thread = await changedOn.Task.Within();
        Assert.False(thread.StartsWith("qix-", StringComparison.Ordinal), thread);
    }
}
