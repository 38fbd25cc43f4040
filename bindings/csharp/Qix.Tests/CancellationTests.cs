using System;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace Qix.Tests;

/// <summary>CancellationToken -> the engine's CancelRequest; per-call timeouts.</summary>
public sealed class CancellationTests : IDisposable
{
    // GetLayout and Evaluate stay pending in the engine until cancelled (or the test ends).
    private readonly Simulator _sim = Simulator.Start(Simulator.HoldingCalculations);

    public void Dispose() => _sim.Dispose();

    [Fact]
    public async Task CancellingTheTokenCancelsThePendingCall()
    {
        var traffic = new TrafficRecorder();
        using var options = new SessionOptions(_sim.AppUrl()).SetTrafficLog(traffic.Log);
        await using Session session = await Session.OpenAsync(options).Within();
        await using QixObject doc = await session.OpenDocAsync("demo").Within();
        await using QixObject cube = await doc.CreateSessionObjectAsync(Scenario.RegionSalesCube).Within();

        using var cts = new CancellationTokenSource();
        Task<QixResult> layout = cube.CallAsync("GetLayout", "[]", cts.Token);
        // The engine has the request (it holds it: nothing answers it but a cancel).
        await traffic.UntilCount(TrafficDirection.Sent, 1, "\"GetLayout\"").Within();
        long id = Scenario.RequestId(traffic.Matching(TrafficDirection.Sent, "\"GetLayout\"")[0]);
        Assert.False(layout.IsCompleted);
        Assert.Equal(1, session.PendingCalls);
        cts.Cancel();

        // The task ends cancelled without the engine's answer (which never comes on its own)...
        var e = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => layout.Within());
        Assert.Equal(cts.Token, e.CancellationToken);
        Assert.True(layout.IsCanceled);
        // ... and the engine is told: a CancelRequest naming the call, which the engine aborts.
        await traffic.UntilCount(TrafficDirection.Sent, 1, "\"CancelRequest\"", $"[{id}]").Within();
        await traffic.UntilCount(TrafficDirection.Received, 1, $"\"id\":{id},", "Request aborted").Within();

        // The session goes on (EngineVersion is not delayed).
        QixResult version = await session.CallAsync("EngineVersion").Within();
        Assert.Contains("qComponentVersion", version.Json);
        Assert.Equal(0, session.PendingCalls);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task CancellingATypedCallCancelsItsTask(bool synchronous)
    {
        var traffic = new TrafficRecorder();
        using var options = new SessionOptions(_sim.AppUrl()) { AllowSynchronousContinuations = synchronous }
                                .SetTrafficLog(traffic.Log);
        await using Session session = await Session.OpenAsync(options).Within();
        await using Qix.Api.Doc doc = (await session.Global.OpenDocAsync("demo").Within())!;

        using var cts = new CancellationTokenSource();
        Task<string> held = doc.EvaluateAsync("Sum(Sales)", cts.Token);
        await traffic.UntilCount(TrafficDirection.Sent, 1, "\"Evaluate\"").Within();
        Assert.False(held.IsCompleted);
        cts.Cancel();
        var e = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => held.Within());
        Assert.Equal(cts.Token, e.CancellationToken);
        Assert.True(held.IsCanceled);
        await traffic.UntilCount(TrafficDirection.Sent, 1, "\"CancelRequest\"").Within();
        // An already cancelled token: a cancelled task, nothing sent.
        Assert.True(doc.EvaluateAsync("Sum(Sales)", cts.Token).IsCanceled);
        Assert.Equal("Qlik Sense", await session.Global.QTProductAsync().Within());
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
