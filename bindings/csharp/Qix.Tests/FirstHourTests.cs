using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace Qix.Tests;

/// <summary>
/// A newcomer's first hour: "changed" on a freshly created object (each handler is told once at once while
/// the data is not current, then once per change after each fetch), and a URL that leads to a WebSocket
/// service that is not a QIX engine (a protocol error naming the problem, not a call timeout).
/// </summary>
public sealed class FirstHourTests : IDisposable
{
    private readonly Simulator _sim = Simulator.Start();

    public void Dispose() => _sim.Dispose();

    [Fact]
    public async Task ChangedHandlerOnAFreshObjectHearsOfTheFirstSelectionThenOfEachChangeAfterAFetch()
    {
        await using Session session = await Session.OpenAsync(_sim.AppUrl()).Within();
        await using QixObject doc = await session.OpenDocAsync("demo").Within();
        await using QixObject cube = await doc.CreateSessionObjectAsync(Scenario.RegionSalesCube).Within();
        var events = new SemaphoreSlim(0);
        cube.Changed += (_, _) => events.Release();
        await Scenario.SelectAsync(doc, "Category", "Bikes").Within();
        Assert.True(await events.WaitAsync(Scenario.Patience), "no Changed for a never-fetched object");

        double bikes = Scenario.GrandTotal(await cube.GetLayoutAsync().Within());
        await Scenario.SelectAsync(doc, "Category", "Clothing").Within();
        Assert.True(await events.WaitAsync(Scenario.Patience), "no Changed after the fetch and a new selection");
        Assert.NotEqual(bikes, Scenario.GrandTotal(await cube.GetLayoutAsync().Within()));
    }

    [Fact]
    public async Task EachHandlerAddedWhileTheDataIsStaleIsToldOnceAndOnlyItself()
    {
        await using Session session = await Session.OpenAsync(_sim.AppUrl()).Within();
        await using QixObject doc = await session.OpenDocAsync("demo").Within();
        await using QixObject cube = await doc.CreateSessionObjectAsync(Scenario.RegionSalesCube).Within();
        await cube.GetLayoutAsync().Within();
        var firstEvents = new SemaphoreSlim(0);
        var secondEvents = new SemaphoreSlim(0);
        cube.Changed += (_, _) => firstEvents.Release();
        await Scenario.SelectAsync(doc, "Category", "Bikes").Within();
        Assert.True(await firstEvents.WaitAsync(Scenario.Patience));
        cube.Changed += (_, _) => secondEvents.Release();  // the data is stale and nobody fetched it
        Assert.True(await secondEvents.WaitAsync(Scenario.Patience), "the new handler was not told at once");

        // After a fetch, one selection raises each handler once. Events are raised in order, the first
        // handler before the second, so once the second has it, the first's count is final.
        await cube.GetLayoutAsync().Within();
        await Scenario.SelectAsync(doc, "Category", "Clothing").Within();
        Assert.True(await secondEvents.WaitAsync(Scenario.Patience));
        Assert.True(await firstEvents.WaitAsync(TimeSpan.Zero), "the first handler missed the change");
        Assert.Equal(0, firstEvents.CurrentCount);
        Assert.Equal(0, secondEvents.CurrentCount);
    }

    [Theory]
    [InlineData("echo", "echo server")]
    [InlineData("silent", "no OnConnected greeting")]
    public async Task AServerThatDoesNotSpeakQixIsNamedAsSuch(string mode, string why)
    {
        using var notQix = Simulator.Start("--not-qix", mode);
        using var options = new SessionOptions(notQix.AppUrl()).Set("timeout.call_ms", 600_000L);
        await using Session session = await Session.OpenAsync(options).Within();
        var clock = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<QixException>(() => session.OpenDocAsync("demo").Within());
        Assert.Equal(QixStatus.Protocol, e.Status);
        Assert.Contains($"the server at {notQix.AppUrl()} does not speak the QIX protocol", e.Message);
        Assert.Contains(why, e.Message);
        // Reported, not asserted: the protocol check (5 s by default) bounds it, not the call timeout.
        Console.WriteLine($"{mode}: diagnosed in {clock.Elapsed.TotalSeconds:F2} s");
    }
}
