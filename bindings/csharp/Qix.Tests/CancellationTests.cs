using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace Qix.Tests;

/// <summary>CancellationToken -> the engine's CancelRequest; per-call timeouts.</summary>
public sealed class CancellationTests : IDisposable
{
    // GetLayout and Evaluate stay pending 3 s in the engine unless cancelled.
    private readonly Simulator _sim = Simulator.Start("--calc-delay-ms", "3000");

    public void Dispose() => _sim.Dispose();

    [Fact]
    public async Task CancellingTheTokenCancelsThePendingCall()
    {
        await using Session session = await Session.OpenAsync(_sim.AppUrl()).Within();
        await using QixObject doc = await session.OpenDocAsync("demo").Within();
        await using QixObject cube = await doc.CreateSessionObjectAsync(Scenario.RegionSalesCube).Within();

        using var cts = new CancellationTokenSource();
        var watch = Stopwatch.StartNew();
        Task<QixResult> layout = cube.CallAsync("GetLayout", "[]", cts.Token);
        await Task.Delay(200);
        Assert.False(layout.IsCompleted);
        Assert.Equal(1, session.PendingCalls);
        cts.Cancel();

        var e = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => layout.Within());
        Assert.Equal(cts.Token, e.CancellationToken);
        Assert.True(layout.IsCanceled);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2.5), $"cancelled after {watch.Elapsed}");

        // The session goes on (EngineVersion is not delayed).
        QixResult version = await session.CallAsync("EngineVersion").Within();
        Assert.Contains("qComponentVersion", version.Json);
        Assert.Equal(0, session.PendingCalls);
    }

    [Fact]
    public async Task AnAlreadyCancelledTokenSendsNothing()
    {
        await using Session session = await Session.OpenAsync(_sim.AppUrl()).Within();
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Task<QixResult> call = session.CallAsync("EngineVersion", "[]", cts.Token);
        Assert.True(call.IsCanceled);
        Assert.Equal(0, session.PendingCalls);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
    }

    [Fact]
    public async Task ATokenCancelledAfterCompletionChangesNothing()
    {
        await using Session session = await Session.OpenAsync(_sim.AppUrl()).Within();
        using var cts = new CancellationTokenSource();
        QixResult r = await session.CallAsync("EngineVersion", "[]", cts.Token).Within();
        cts.Cancel();
        Assert.Contains("qComponentVersion", r.Json);
    }

    [Fact]
    public async Task APerCallTimeoutFailsWithTimeout()
    {
        await using Session session = await Session.OpenAsync(_sim.AppUrl()).Within();
        await using QixObject doc = await session.OpenDocAsync("demo").Within();
        var e = await Assert.ThrowsAsync<QixException>(() =>
            doc.CallAsync("Evaluate", QixJson.Params("Sum(Sales)"), CallFlags.Default, TimeSpan.FromMilliseconds(200)).Within());
        Assert.Equal(QixStatus.Timeout, e.Status);
        Assert.True(e.IsRetriable);
    }
}
