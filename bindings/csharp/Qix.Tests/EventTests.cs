using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace Qix.Tests;

/// <summary>Events: on the thread pool, in order, and a throwing handler is reported, never fatal.</summary>
public sealed class EventTests : IDisposable
{
    private readonly Simulator _sim = Simulator.Start();

    public void Dispose() => _sim.Dispose();

    [Fact]
    public async Task AThrowingHandlerIsReportedAndTheOthersStillRun()
    {
        await using Session session = await Session.OpenAsync(_sim.AppUrl()).Within();
        await using QixObject doc = await session.OpenDocAsync("demo").Within();
        await using QixObject cube = await doc.CreateSessionObjectAsync(Scenario.RegionSalesCube).Within();
        await cube.GetLayoutAsync().Within();

        var reported = new TaskCompletionSource<HandlerExceptionEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        EventHandler<HandlerExceptionEventArgs> report = (_, e) => reported.TrySetResult(e);
        QixDiagnostics.HandlerException += report;
        try
        {
            var second = Scenario.Signal();
            cube.Changed += (_, _) => throw new InvalidOperationException("boom");
            cube.Changed += (_, _) => Scenario.SetOn(second);

            await Scenario.SelectAsync(doc, "Category", "Bikes").Within();
            Assert.True(await second.Task.Within());
            HandlerExceptionEventArgs args = await reported.Task.Within();
            Assert.Same(cube, args.Source);
            Assert.Equal("Changed", args.EventName);
            Assert.Equal("boom", args.Exception.Message);

            // Later events still arrive.
            await cube.GetLayoutAsync().Within();
            second = Scenario.Signal();
            await Scenario.SelectAsync(doc, "Category", "Clothing").Within();
            Assert.True(await second.Task.Within());
        }
        finally
        {
            QixDiagnostics.HandlerException -= report;
        }
    }

    [Fact]
    public async Task CloseRaisesStateChangedAndClosedOnThePool()
    {
        await using Session session = await Session.OpenAsync(_sim.AppUrl()).Within();
        var states = new ConcurrentQueue<SessionState>();
        var closed = new TaskCompletionSource<(SessionStateChangedEventArgs, bool)>(TaskCreationOptions.RunContinuationsAsynchronously);
        session.StateChanged += (_, e) => states.Enqueue(e.State);
        session.Closed += (_, e) => closed.TrySetResult((e, Thread.CurrentThread.IsThreadPoolThread));
        session.Close();
        session.Close();
        var (args, onPool) = await closed.Task.Within();
        Assert.True(onPool);
        Assert.Equal(SessionState.Closed, args.State);
        Assert.Equal(1000, args.CloseCode);
        Assert.Contains(SessionState.Closed, states);
        Assert.Equal(SessionState.Closed, session.State);
    }

    [Fact]
    public async Task HandlersMayMakeBlockingCalls()
    {
        await using Session session = await Session.OpenAsync(_sim.AppUrl()).Within();
        await using QixObject doc = await session.OpenDocAsync("demo").Within();
        await using QixObject cube = await doc.CreateSessionObjectAsync(Scenario.RegionSalesCube).Within();
        await cube.GetLayoutAsync().Within();
        var fresh = new TaskCompletionSource<double>(TaskCreationOptions.RunContinuationsAsynchronously);
        cube.Changed += (_, _) =>
        {
            // Not on libqix's dispatcher: a blocking call works (it would be QIX_EBUSY there).
            QixResult layout = cube.Call("GetLayout");
            fresh.TrySetResult(Scenario.GrandTotal(layout.Value));
        };
        await Scenario.SelectAsync(doc, "Category", "Bikes").Within();
        double total = await fresh.Task.Within();
        Assert.True(total > 0);
    }

    [Fact]
    public async Task ChangesOfManyObjectsArriveInOrderOnePerObject()
    {
        await using Session session = await Session.OpenAsync(_sim.AppUrl()).Within();
        await using QixObject doc = await session.OpenDocAsync("demo").Within();
        var seen = new ConcurrentDictionary<int, int>();
        int running = 0, overlap = 0;
        var all = new CountdownEvent(5);
        var cubes = new QixObject[5];
        for (int i = 0; i < cubes.Length; i++)
        {
            int index = i;
            cubes[i] = await doc.CreateSessionObjectAsync(Scenario.RegionSalesCube).Within();
            await cubes[i].GetLayoutAsync().Within();
            cubes[i].Changed += (_, _) =>
            {
                if (Interlocked.Increment(ref running) > 1) Interlocked.Increment(ref overlap);
                // What a handler does: fetch the fresh layout (a blocking round trip to the engine), while
                // another handler running at the same time would be counted above.
                cubes[index].Call("GetLayout");
                seen.AddOrUpdate(index, 1, (_, n) => n + 1);
                Interlocked.Decrement(ref running);
                all.Signal();
            };
        }
        await Scenario.SelectAsync(doc, "Category", "Bikes").Within();
        Assert.True(await Task.Run(() => all.Wait(Scenario.Patience)));
        Assert.Equal(5, seen.Count);
        Assert.All(seen.Values, n => Assert.Equal(1, n));
        Assert.Equal(0, overlap);  // one session's events are raised one at a time
        foreach (QixObject c in cubes) c.Dispose();
    }
}
