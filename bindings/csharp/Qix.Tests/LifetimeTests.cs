using System;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;
using Xunit;

namespace Qix.Tests;

/// <summary>Dispose (twice), disconnects failing pending calls, and callbacks surviving the garbage collector.</summary>
public sealed class LifetimeTests : IDisposable
{
    // Evaluate and GetLayout stay pending until the test ends them (a close, a kill, a CancelRequest).
    private readonly Simulator _sim = Simulator.Start(Simulator.HoldingCalculations);

    public void Dispose() => _sim.Dispose();

    [Fact]
    public async Task DisposingTwiceIsHarmlessAndLaterUseThrowsObjectDisposed()
    {
        Session session = await Session.OpenAsync(_sim.AppUrl()).Within();
        QixObject doc = await session.OpenDocAsync("demo").Within();
        QixObject global = session.Global;

        doc.Dispose();
        doc.Dispose();
        await doc.DisposeAsync();
        Assert.True(doc.IsClosed);
        Assert.Throws<ObjectDisposedException>(() => doc.Call("Evaluate", "[\"1\"]"));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => doc.CallAsync("Evaluate", "[\"1\"]"));

        session.Dispose();
        session.Dispose();
        await session.DisposeAsync();
        Assert.True(session.IsDisposed);
        Assert.Equal(SessionState.Closed, session.State);
        Assert.Equal(0, session.PendingCalls);
        Assert.True(global.IsClosed, "the session disposes its objects");
        Assert.Throws<ObjectDisposedException>(() => session.Call("EngineVersion"));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => session.CallAsync("EngineVersion"));
        global.Dispose();
    }

    [Fact]
    public async Task ClosingTheSessionFailsPendingCallsAndMakesObjectsZombies()
    {
        await using Session session = await Session.OpenAsync(_sim.AppUrl()).Within();
        await using QixObject doc = await session.OpenDocAsync("demo").Within();
        var docClosed = Scenario.Signal();
        doc.Closed += (_, _) => Scenario.SetOn(docClosed);
        Task<QixResult>[] pending = Enumerable.Range(0, 20)
            .Select(i => doc.CallAsync("Evaluate", QixJson.Params($"Sum(Sales)+{i}"))).ToArray();
        Assert.Equal(20, session.PendingCalls);  // counted when made, and held by the engine
        session.Close();
        foreach (Task<QixResult> call in pending)
        {
            var e = await Assert.ThrowsAsync<QixException>(() => call.Within());
            Assert.Equal(QixStatus.Closed, e.Status);
        }
        // The handle is closed by the same close (libqix may report it after the calls' failure).
        await docClosed.Task.Within();
        Assert.True(doc.IsClosed);
        var zombie = await Assert.ThrowsAsync<QixException>(() => doc.CallAsync("Evaluate", "[\"1\"]").Within());
        Assert.Equal(QixStatus.Closed, zombie.Status);
    }

    [Fact]
    public async Task DisposingTheSessionFailsPendingCalls()
    {
        // Several rounds, with garbage collections: the native session must outlive Dispose until its
        // pending calls have completed, whatever else lets go of it.
        for (int round = 0; round < 3; round++)
        {
            Session session = await Session.OpenAsync(_sim.AppUrl()).Within();
            QixObject doc = await session.OpenDocAsync("demo").Within();
            Scenario.CollectGarbage();
            Task<QixResult>[] pending = Enumerable.Range(0, 10)
                .Select(i => doc.CallAsync("Evaluate", QixJson.Params($"Sum(Sales)+{i}"))).ToArray();
            session.Dispose();
            Scenario.CollectGarbage();
            foreach (Task<QixResult> call in pending)
            {
                var e = await Assert.ThrowsAsync<QixException>(() => call.Within(TimeSpan.FromSeconds(10)));
                Assert.Equal(QixStatus.Closed, e.Status);
            }
        }
    }

    [Fact]
    public async Task ADisconnectFailsPendingCallsAndRaisesClosed()
    {
        var traffic = new TrafficRecorder();
        using var options = new SessionOptions(_sim.AppUrl()).SetTrafficLog(traffic.Log);
        await using Session session = await Session.OpenAsync(options).Within();
        await using QixObject doc = await session.OpenDocAsync("demo").Within();
        var closed = new TaskCompletionSource<SessionStateChangedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        session.Closed += (_, e) => closed.TrySetResult(e);
        Task<QixResult>[] pending = Enumerable.Range(0, 20)
            .Select(i => doc.CallAsync("Evaluate", QixJson.Params($"Sum(Sales)+{i}"))).ToArray();
        // The engine has every request (and holds them) when it goes away.
        await traffic.UntilCount(TrafficDirection.Sent, 20, "\"Evaluate\"").Within();
        _sim.Kill();
        foreach (Task<QixResult> call in pending)
        {
            var e = await Assert.ThrowsAsync<QixException>(() => call.Within());
            Assert.Equal(QixStatus.Connection, e.Status);
            Assert.True(e.IsRetriable);
        }
        SessionStateChangedEventArgs args = await closed.Task.Within();
        Assert.Equal(SessionState.Closed, args.State);
        Assert.Equal(1006, args.CloseCode);
        Assert.Equal(SessionState.Closed, session.State);
    }

    [Fact]
    public async Task EventHandlersSurviveAGarbageCollectionBetweenRegistrationAndCallback()
    {
        using Simulator answering = Simulator.Start();  // GetLayout answered at once
        await using Session session = await Session.OpenAsync(answering.AppUrl()).Within();
        await using QixObject doc = await session.OpenDocAsync("demo").Within();
        // The cube and its handler are referenced by nothing here: only the binding keeps them.
        (TaskCompletionSource<bool> changed, WeakReference cube) = await SubscribeToANewCube(doc);
        // Other calls first, so that no stale reference from the last completions (thread-pool locals)
        // keeps the cube reachable by accident.
        for (int i = 0; i < 3; i++) await session.CallAsync("EngineVersion");
        Scenario.CollectGarbage();
        Assert.True(cube.IsAlive, "the session keeps its objects, and their handlers, alive");
        await Scenario.SelectAsync(doc, "Category", "Bikes").Within();
        Assert.True(await changed.Task.Within());
    }

    [Fact]
    public async Task PendingCallsSurviveAGarbageCollection()
    {
        var traffic = new TrafficRecorder();
        using var options = new SessionOptions(_sim.AppUrl()).SetTrafficLog(traffic.Log);
        await using Session session = await Session.OpenAsync(options).Within();
        await using QixObject doc = await session.OpenDocAsync("demo").Within();
        Task<QixResult> call = doc.CallAsync("Evaluate", QixJson.Params("1+1"));  // held by the engine
        await traffic.UntilCount(TrafficDirection.Sent, 1, "\"Evaluate\"").Within();
        long id = Scenario.RequestId(traffic.Matching(TrafficDirection.Sent, "\"Evaluate\"")[0]);
        Scenario.CollectGarbage();
        Assert.False(call.IsCompleted);
        // Only now does the engine answer the call (error 15 "Request aborted", for a CancelRequest naming
        // it): the answer reaches the task through libqix's completion, registered before the collection.
        await session.CallAsync("CancelRequest", QixJson.Params(id)).Within();
        var e = await Assert.ThrowsAsync<QixException>(() => call.Within());
        Assert.Equal(15, e.EngineCode);
    }

    [Fact]
    public async Task ADisposedSessionIsCollectable()
    {
        (WeakReference weak, Task closed) = await OpenAndDispose();
        // Dispose keeps the native session until libqix reports Closed, then lets go of it (on a thread-pool
        // thread, with no event of its own after that): wait for Closed, then ask for collections until the
        // session is gone. The collector can only be asked; the rounds are bounded, and no clock is involved.
        await closed.Within();
        for (int round = 0; round < 200 && weak.IsAlive; round++)
        {
            Scenario.CollectGarbage();
            await Task.Yield();
        }
        Assert.False(weak.IsAlive, "nothing roots a disposed session");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task<(TaskCompletionSource<bool>, WeakReference)> SubscribeToANewCube(QixObject doc)
    {
        // No Within() here: its timer would keep the tasks, and so the cube, reachable.
        QixObject cube = await doc.CreateSessionObjectAsync(Scenario.RegionSalesCube);
        await cube.CallAsync("GetLayout", "[]", CallFlags.Default, TimeSpan.FromSeconds(10));
        var changed = Scenario.Signal();
        cube.Changed += (_, _) => Scenario.SetOn(changed);
        return (changed, new WeakReference(cube));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private async Task<(WeakReference, Task)> OpenAndDispose()
    {
        Session session = await Session.OpenAsync(_sim.AppUrl()).Within();
        QixObject doc = await session.OpenDocAsync("demo").Within();
        doc.Changed += (_, _) => { };
        session.StateChanged += (_, _) => { };
        var closed = Scenario.Signal();
        session.Closed += (_, _) => Scenario.SetOn(closed);  // refers to the signal only, not to the session
        await session.CallAsync("EngineVersion").Within();
        session.Dispose();
        return (new WeakReference(session), closed.Task);
    }
}
