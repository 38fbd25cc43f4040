using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace Qix.Tests;

/// <summary>Connect to the simulator, open the app, notifications, connection failures.</summary>
public sealed class ConnectionTests : IDisposable
{
    private readonly Simulator _sim = Simulator.Start();

    public void Dispose() => _sim.Dispose();

    [Fact]
    public async Task ConnectsAndOpensTheApp()
    {
        await using Session session = await Session.OpenAsync(_sim.AppUrl()).Within();
        Assert.Equal(SessionState.Connected, session.State);

        QixResult version = await session.CallAsync("EngineVersion").Within();
        Assert.False(string.IsNullOrEmpty(version.Value.GetProperty("qComponentVersion").GetString()));
        Assert.True(version.RequestId > 0);

        await using QixObject doc = await session.OpenDocAsync("demo").Within();
        Assert.Equal("Doc", doc.Type);
        Assert.Equal("demo", doc.GenericId);
        Assert.True(doc.Handle > 0);
        Assert.Equal(-1, session.Global.Handle);
        Assert.Equal("Global", session.Global.Type);

        string sales = await doc.EvaluateAsync("Sum(Sales)").Within();
        Assert.True(double.Parse(sales, System.Globalization.CultureInfo.InvariantCulture) > 0);
        Assert.False(string.IsNullOrEmpty(QixDiagnostics.NativeVersion));
    }

    [Fact]
    public async Task OpensWithOptionsAndItsOwnContext()
    {
        using var context = new Context(ioThreads: 1, dispatcherThreads: 1);
        using var options = new SessionOptions(_sim.AppUrl()).Set("timeout.call_ms", 10_000).Set("delta", true);
        Assert.Equal(_sim.AppUrl(), options.Url);
        await using Session session = await Session.OpenAsync(options, context, TimeSpan.FromSeconds(10)).Within();
        options.Dispose();  // the session copied them
        context.Dispose();  // the session keeps the threads
        QixResult r = await session.CallAsync("GetDocList").Within();
        Assert.Contains("demo", r.Json);
    }

    [Fact]
    public async Task IoSpinIsSetInRangeAndCallsGoOnEitherWay()
    {
        var context = new Context(ioThreads: 1, dispatcherThreads: 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => context.SetIoSpin(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => context.SetIoSpin(1_000_001));
        using var options = new SessionOptions(_sim.AppUrl());
        await using (Session session = await Session.OpenAsync(options, context, TimeSpan.FromSeconds(10)).Within())
        {
            foreach (int spin in new[] { 1_000_000, 0, 50 })
            {
                context.SetIoSpin(spin);
                for (int i = 0; i < 50; i++)
                    Assert.Contains("qComponentVersion", (await session.CallAsync("EngineVersion").Within()).Json);
            }
        }
        context.Dispose();
        Assert.Throws<ObjectDisposedException>(() => context.SetIoSpin(0));
    }

    [Fact]
    public void OpensSynchronously()
    {
        using var options = new SessionOptions(_sim.AppUrl());
        using Session session = Session.Open(options);
        QixResult r = session.Call("EngineVersion");
        Assert.Contains("qComponentVersion", r.Json);
    }

    [Fact]
    public async Task NotificationsReceivedBeforeSubscribingAreReplayed()
    {
        await using Session session = await Session.OpenAsync(_sim.AppUrl()).Within();
        var seen = new ConcurrentQueue<string>();
        var connected = Scenario.Signal();
        session.NotificationReceived += (sender, e) =>
        {
            Assert.Same(session, sender);
            seen.Enqueue(e.Method);
            if (e.Method == "OnConnected")
            {
                Assert.Equal("SESSION_CREATED", e.Params.GetProperty("qSessionState").GetString());
                Scenario.SetOn(connected);
            }
        };
        Assert.True(await connected.Task.Within(), "raised on a thread-pool thread");
        Assert.Contains("OnConnected", seen);
    }

    [Fact]
    public async Task AFailedConnectionThrowsQixException()
    {
        string url = _sim.AppUrl();
        _sim.Kill();
        using var options = new SessionOptions(url).Set("timeout.connect_ms", 5_000);
        var e = await Assert.ThrowsAsync<QixException>(() => Session.OpenAsync(options).Within());
        Assert.Equal(QixStatus.Network, e.Status);
        Assert.False(string.IsNullOrEmpty(e.Message));
    }

    [Fact]
    public async Task OpenAsyncHonoursAnAlreadyCancelledToken()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        using var options = new SessionOptions(_sim.AppUrl());
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Session.OpenAsync(options, cts.Token));
    }
}
