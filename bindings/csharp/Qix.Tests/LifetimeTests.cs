using System;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;
using Xunit;

namespace Qix.Tests;

/// <summary>Dispose (twice), disconnects failing pending calls, and callbacks surviving the garbage collector.</summary>
public sealed class LifetimeTests : IDisposable
{
    private readonly Simulator _sim = Simulator.Start("--calc-delay-ms", "2000");

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
        Task<QixResult>[] pending = Enumerable.Range(0, 20)
            .Select(i => doc.CallAsync("Evaluate", QixJson.Params($"Sum(Sales)+{i}"))).ToArray();
        await Task.Delay(100);
        Assert.Equal(20, session.PendingCalls);
        session.Close();
        foreach (Task<QixResult> call in pending)
        {
            var e = await Assert.ThrowsAsync<QixException>(() => call.Within());
            Assert.Equal(QixStatus.Closed, e.Status);
        }
        // The handle is closed by the same close (libqix may report it a moment after the calls' failure).
        for (int i = 0; i < 200 && !doc.IsClosed; i++) await Task.Delay(10);
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
        await using Session session = await Session.OpenAsync(_sim.AppUrl()).Within();
        await using QixObject doc = await session.OpenDocAsync("demo").Within();
        var closed = new TaskCompletionSource<SessionStateChangedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        session.Closed += (_, e) => closed.TrySetResult(e);
        Task<QixResult>[] pending = Enumerable.Range(0, 20)
            .Select(i => doc.CallAsync("Evaluate", QixJson.Params($"Sum(Sales)+{i}"))).ToArray();
        await Task.Delay(100);
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
        await using Session session = await Session.OpenAsync(_sim.AppUrl()).Within();
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
        await using Session session = await Session.OpenAsync(_sim.AppUrl()).Within();
        await using QixObject doc = await session.OpenDocAsync("demo").Within();
        Task<QixResult> call = doc.CallAsync("Evaluate", QixJson.Params("1+1"));  // pending 2 s
        Scenario.CollectGarbage();
        Assert.False(call.IsCompleted);
        Assert.Equal("2", (await call.Within()).Value.GetString());
    }

    [Fact]
    public async Task ADisposedSessionIsCollectable()
    {
        WeakReference weak = await OpenAndDispose();
        for (int i = 0; i < 20 && weak.IsAlive; i++)
        {
            Scenario.CollectGarbage();
            await Task.Delay(50);
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
    private async Task<WeakReference> OpenAndDispose()
    {
        Session session = await Session.OpenAsync(_sim.AppUrl()).Within();
        QixObject doc = await session.OpenDocAsync("demo").Within();
        doc.Changed += (_, _) => { };
        session.StateChanged += (_, _) => { };
        await session.CallAsync("EngineVersion").Within();
        session.Dispose();
        return new WeakReference(session);
    }
}
