using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace Qix.Tests;

/// <summary>Reconnect and resume (docs/reconnect.md) through the C# binding.</summary>
public sealed class ReconnectTests : IDisposable
{
    // The engine closes every connection (the reconnected ones too) with 4003 "engine terminating" about
    // 700 ms after it connects: a resumable drop, so each window ends in Suspended, then Resumed.
    private readonly Simulator _sim = Simulator.Start("--close-code", "4003", "--close-after-ms", "700");

    public void Dispose() => _sim.Dispose();

    [Fact]
    public async Task ResumesAfterTheEngineClosesWith4003AndTheSameObjectAnswersAgain()
    {
        using var options = new SessionOptions(_sim.AppUrl())
            .Set("reconnect", "resume")
            .Set("reconnect.initial_delay_ms", 50);
        await using Session session = await Session.OpenAsync(options).Within();

        // Every state change, in order; a semaphore counts the Resumed ones.
        var states = new ConcurrentQueue<SessionStateChangedEventArgs>();
        var resumed = new SemaphoreSlim(0);
        var closed = Scenario.Signal();
        session.StateChanged += (_, e) =>
        {
            states.Enqueue(e);
            if (e.State == SessionState.Resumed) resumed.Release();
            if (e.State == SessionState.Closed) Scenario.SetOn(closed);
        };

        // Inside the first window (a call in flight at a drop fails with Connection: then it is repeated;
        // one made while suspended waits for the resume).
        QixObject doc = await Retrying(() => session.OpenDocAsync("demo"));
        QixObject cube = await Retrying(() => doc.CreateSessionObjectAsync(Scenario.RegionSalesCube));
        System.Text.Json.JsonElement first = await Retrying(() => cube.GetLayoutAsync());
        Assert.True(Scenario.GrandTotal(first) > 0);

        // The drop: Suspended with 4003, then Resumed. Then the same QixObject answers GetLayout and the
        // session is Connected. A GetLayout that races with the next drop (~700 ms after each reconnect)
        // fails with Connection, or the state is already Suspended again: try once more after the next Resumed.
        QixException? lastRace = null;
        bool done = false;
        for (int attempt = 0; attempt < 5 && !done; attempt++)
        {
            Assert.True(await resumed.WaitAsync(Scenario.Patience), "no Resumed in time; states: " + Describe(states));
            try
            {
                System.Text.Json.JsonElement again = await cube.GetLayoutAsync().Within();
                Assert.Equal(Scenario.GrandTotal(first), Scenario.GrandTotal(again));
                SessionState now = session.State;
                if (now == SessionState.Connected)
                    done = true;
                else
                    Assert.Equal(SessionState.Suspended, now);  // the next drop came first: again
            }
            catch (QixException e) when (e.Status == QixStatus.Connection)
            {
                lastRace = e;
            }
        }
        Assert.True(done, "no GetLayout after a resume while Connected; last race: " + lastRace);

        SessionStateChangedEventArgs[] seen = states.ToArray();
        int suspended = Array.FindIndex(seen, e => e.State == SessionState.Suspended);
        Assert.True(suspended >= 0, "no Suspended; states: " + Describe(seen));
        Assert.Equal(4003, seen[suspended].CloseCode);
        Assert.Equal(SessionState.Resumed, seen[suspended + 1].State);
        Assert.DoesNotContain(seen, e => e.State == SessionState.Closed);
        Assert.False(cube.IsClosed);
        Assert.False(closed.Task.IsCompleted);

        await cube.DisposeAsync();
        await doc.DisposeAsync();
        session.Close();
        await closed.Task.Within();
        Assert.Equal(SessionState.Closed, session.State);
    }

    private static string Describe(System.Collections.Generic.IEnumerable<SessionStateChangedEventArgs> states) =>
        string.Join(", ", System.Linq.Enumerable.Select(states, e => $"{e.State} {e.CloseCode} '{e.Reason}'"));

    /// <summary>Runs <paramref name="call"/> again when it failed with Connection (it was in flight at a drop).</summary>
    private static async Task<T> Retrying<T>(Func<Task<T>> call)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await call().Within(TimeSpan.FromSeconds(10));
            }
            catch (QixException e) when (e.Status == QixStatus.Connection && attempt < 5)
            {
            }
        }
    }
}
