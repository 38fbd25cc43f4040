using System;
using System.Threading.Tasks;
using Xunit;

namespace Qix.Tests;

/// <summary>Engine and library errors as QixException, with the engine's code, LOCERR name, parameter, message.</summary>
public sealed class ErrorTests : IDisposable
{
    private readonly Simulator _sim = Simulator.Start();

    public void Dispose() => _sim.Dispose();

    [Fact]
    public async Task OpenDocOfAMissingAppMapsTheEngineError()
    {
        await using Session session = await Session.OpenAsync(_sim.AppUrl()).Within();
        var e = await Assert.ThrowsAsync<QixException>(() => session.OpenDocAsync("no-such-app").Within());
        Assert.Equal(QixStatus.Engine, e.Status);
        Assert.True(e.IsEngineError);
        Assert.Equal(1003, e.EngineCode);
        Assert.Equal("LOCERR_APP_NOT_FOUND", e.LocErrName);
        Assert.Contains("no-such-app", e.Parameter);
        Assert.False(string.IsNullOrEmpty(e.Message));
        Assert.Contains("LOCERR_APP_NOT_FOUND", e.ToString());
    }

    [Fact]
    public async Task BlockingCallsThrowTheSameException()
    {
        await using Session session = await Session.OpenAsync(_sim.AppUrl()).Within();
        var e = Assert.Throws<QixException>(() => session.Call("OpenDoc", QixJson.Params("no-such-app")));
        Assert.Equal(QixStatus.Engine, e.Status);
        Assert.Equal(1003, e.EngineCode);
        Assert.Equal("LOCERR_APP_NOT_FOUND", e.LocErrName);
    }

    [Fact]
    public async Task AnUnknownMethodIsAnEngineError()
    {
        await using Session session = await Session.OpenAsync(_sim.AppUrl()).Within();
        var e = await Assert.ThrowsAsync<QixException>(() => session.CallAsync("NoSuchMethod").Within());
        Assert.Equal(QixStatus.Engine, e.Status);
        Assert.Equal(-32601, e.EngineCode);
    }

    [Fact]
    public async Task MalformedParamsAreRejectedBeforeSending()
    {
        await using Session session = await Session.OpenAsync(_sim.AppUrl()).Within();
        var e = await Assert.ThrowsAsync<QixException>(() => session.CallAsync("Evaluate", "[oops"));
        Assert.Equal(QixStatus.InvalidArgument, e.Status);
        Assert.Equal(0, session.PendingCalls);
        Assert.Throws<ArgumentNullException>(() => { _ = session.CallAsync(null!); });  // thrown at once, not in the task
    }

    [Fact]
    public void AnUnknownOptionIsAnInvalidArgument()
    {
        using var options = new SessionOptions();
        var e = Assert.Throws<QixException>(() => options.Set("no.such.option", "x"));
        Assert.Equal(QixStatus.InvalidArgument, e.Status);
        Assert.Throws<QixException>(() => options.Set("url.port", true));
        options.Set("url.host", "example.com").Set("url.port", 4848).Set("url.secure", false);
        Assert.StartsWith("ws://example.com:4848", options.Url);
    }

    [Fact]
    public void EventsPollIsRefusedAndInlineIsNot()
    {
        // The binding delivers on libqix's threads: polled delivery is not for it.
        using var options = new SessionOptions();
        var e = Assert.Throws<ArgumentException>(() => options.Set("events.poll", true));
        Assert.Contains("not supported by the C# binding", e.Message);
        options.Set("events.poll", false);
        options.Set("events.inline", false);
        options.Set("events.inline", true);
    }

    [Fact]
    public void StatusValuesMatchTheCApi()
    {
        Assert.Equal(0, (int)QixStatus.Ok);
        Assert.Equal(-1, (int)QixStatus.InvalidArgument);
        Assert.Equal(-3, (int)QixStatus.Engine);
        Assert.Equal(-15, (int)QixStatus.Internal);
        Assert.Equal(2, (int)SessionState.Closed);
        Assert.Equal(2, (int)CallFlags.NoDelta);
    }
}
