using System;
using System.Globalization;
using System.Linq;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace Qix.Tests;

/// <summary>Hypercube session object, select, Changed, refreshed layout, delta on and off, JSON in and out.</summary>
public sealed class ObjectTests : IDisposable
{
    private readonly Simulator _sim = Simulator.Start();

    public void Dispose() => _sim.Dispose();

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task SelectRaisesChangedAndTheLayoutIsRefreshed(bool delta)
    {
        using var options = new SessionOptions(_sim.AppUrl()).Set("delta", delta);
        await using Session session = await Session.OpenAsync(options).Within();
        await using QixObject doc = await session.OpenDocAsync("demo").Within();
        await using QixObject cube = await doc.CreateSessionObjectAsync(Scenario.RegionSalesCube).Within();
        Assert.Equal("GenericObject", cube.Type);
        Assert.Equal("table", cube.GenericType);

        JsonElement before = await cube.GetLayoutAsync().Within();
        double total = Scenario.GrandTotal(before);
        Assert.Equal(6, before.GetProperty("qHyperCube").GetProperty("qSize").GetProperty("qcy").GetInt32());
        Assert.True(cube.IsValid);
        Assert.NotNull(cube.CachedLayoutJson);

        var changed = Scenario.Signal();
        int changes = 0;
        cube.Changed += (sender, _) =>
        {
            Assert.Same(cube, sender);
            Interlocked.Increment(ref changes);
            Scenario.SetOn(changed);
        };

        await Scenario.SelectAsync(doc, "Category", "Bikes").Within();
        Assert.True(await changed.Task.Within(), "Changed is raised on a thread-pool thread");
        Assert.False(cube.IsValid);

        JsonElement after = await cube.GetLayoutAsync().Within();
        double bikes = Scenario.GrandTotal(after);
        double expected = double.Parse(await doc.EvaluateAsync("Sum(Sales)").Within(), CultureInfo.InvariantCulture);
        Assert.Equal(expected, bikes, 6);
        Assert.True(bikes < total);
        Assert.True(cube.IsValid);

        // A second invalidation raises Changed again (once per valid-to-invalid edge).
        changed = Scenario.Signal();
        await Scenario.SelectAsync(doc, "Category", "Clothing").Within();
        await changed.Task.Within();
        Assert.Equal(2, Volatile.Read(ref changes));
        double clothing = Scenario.GrandTotal(await cube.GetLayoutAsync().Within());
        Assert.NotEqual(bikes, clothing);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task TheDeltaOptionDecidesWhatGoesOnTheWire(bool delta)
    {
        var traffic = new TrafficRecorder();
        using var options = new SessionOptions(_sim.AppUrl()).Set("delta", delta).SetTrafficLog(traffic.Log);
        await using Session session = await Session.OpenAsync(options).Within();
        await using QixObject doc = await session.OpenDocAsync("demo").Within();
        await using QixObject cube = await doc.CreateSessionObjectAsync(Scenario.RegionSalesCube).Within();
        QixResult first = await cube.CallAsync("GetLayout").Within();
        await Scenario.SelectAsync(doc, "Category", "Bikes").Within();
        QixResult second = await cube.CallAsync("GetLayout").Within();
        Assert.NotEqual(Scenario.GrandTotal(first.Value), Scenario.GrandTotal(second.Value));

        // Both requests (and, with delta, both answers) are in the log, in order, on the thread pool.
        string Request(QixResult r) => $"\"id\":{r.RequestId},";
        await traffic.UntilCount(TrafficDirection.Received, 1, Request(second)).Within();
        (TrafficDirection, string)[] frames = traffic.Frames.Snapshot();
        string[] sent = frames.Where(f => f.Item1 == TrafficDirection.Sent && f.Item2.Contains("\"GetLayout\""))
                              .Select(f => f.Item2).ToArray();
        Assert.Equal(2, sent.Length);
        Assert.All(sent, f => Assert.Equal(delta, f.Contains("\"delta\":true")));
        string[] answers = frames.Where(f => f.Item1 == TrafficDirection.Received &&
                                             (f.Item2.Contains(Request(first)) || f.Item2.Contains(Request(second))))
                                 .Select(f => f.Item2).ToArray();
        Assert.Equal(2, answers.Length);
        Assert.All(answers, f => Assert.Equal(delta, f.Contains("\"delta\":true")));

        // A per-call flag overrides the session's default.
        CallFlags flip = delta ? CallFlags.NoDelta : CallFlags.Delta;
        QixResult third = await cube.CallAsync("GetLayout", "[]", flip).Within();
        Assert.Equal(Scenario.GrandTotal(second.Value), Scenario.GrandTotal(third.Value));
        await traffic.UntilCount(TrafficDirection.Sent, 1, Request(third)).Within();
        string thirdRequest = traffic.Matching(TrafficDirection.Sent, Request(third))[0];
        Assert.Equal(!delta, thirdRequest.Contains("\"delta\":true"));
    }

    [Fact]
    public async Task DeltaPerCallGivesTheSameResultsAsFullResults()
    {
        await using Session session = await Session.OpenAsync(_sim.AppUrl()).Within();
        await using QixObject doc = await session.OpenDocAsync("demo").Within();
        await using QixObject cube = await doc.CreateSessionObjectAsync(Scenario.RegionSalesCube).Within();
        for (int i = 0; i < 3; i++)
        {
            QixResult withDelta = await cube.CallAsync("GetLayout", "[]", CallFlags.Delta).Within();
            QixResult without = await cube.CallAsync("GetLayout", "[]", CallFlags.NoDelta).Within();
            Assert.Equal(Scenario.GrandTotal(without.Value), Scenario.GrandTotal(withDelta.Value));
            Assert.Equal(without.Value.GetProperty("qHyperCube").GetProperty("qDataPages").GetRawText(),
                         withDelta.Value.GetProperty("qHyperCube").GetProperty("qDataPages").GetRawText());
            await Scenario.SelectAsync(doc, "Category", i % 2 == 0 ? "Bikes" : "Accessories").Within();
        }
    }

    [Fact]
    public async Task JsonGoesInAndOutAsStringsAndSystemTextJson()
    {
        await using Session session = await Session.OpenAsync(_sim.AppUrl()).Within();
        await using QixObject doc = await session.OpenDocAsync("demo").Within();

        using JsonDocument props = JsonDocument.Parse(Scenario.RegionSalesCube);
        await using QixObject cube = await doc.CreateSessionObjectAsync(props.RootElement).Within();

        using JsonDocument named = JsonDocument.Parse("""{"qExpression":"2*3"}""");
        QixResult six = await doc.CallAsync("Evaluate", named.RootElement).Within();
        Assert.Equal("6", six.Value.GetString());
        Assert.Equal("\"6\"", six.Json);
        Assert.Contains("qReturn", six.RawJson);
        Assert.Equal("6", six.Raw.GetProperty("qReturn").GetString());
        Assert.Equal("6", six.As<string>());
        using (JsonDocument d = six.ToJsonDocument()) Assert.Equal(JsonValueKind.String, d.RootElement.ValueKind);

        Assert.Equal("""["a\"b",1,true,null]""", QixJson.Params("a\"b", 1, true, null));
        Assert.Equal("\"x\"", QixJson.Quote("x"));

        QixResult layout = await cube.CallAsync("GetLayout").Within();
        var typed = layout.As<CubeLayout>();
        Assert.NotNull(typed);
        Assert.Equal(6, typed!.qHyperCube.qSize.qcy);
    }

    [Fact]
    public async Task BlockingCallsWorkToo()
    {
        await using Session session = await Session.OpenAsync(_sim.AppUrl()).Within();
        await using QixObject doc = await session.OpenDocAsync("demo").Within();
        QixResult r = doc.Call("Evaluate", QixJson.Params("1+2"));
        Assert.Equal("3", r.Value.GetString());
        Assert.Null(await doc.GetObjectAsync("no-such-object").Within());
    }

    public sealed class CubeLayout
    {
        public HyperCube qHyperCube { get; set; } = new();
    }

    public sealed class HyperCube
    {
        public Size qSize { get; set; } = new();
    }

    public sealed class Size
    {
        public int qcx { get; set; }
        public int qcy { get; set; }
    }
}
