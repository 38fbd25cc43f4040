using System;
using System.Collections.Generic;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Qix.Api;
using Qix.Internal;
using Xunit;

namespace Qix.Tests;

/// <summary>
/// Bulk extraction (GenericObject.ExtractAsync: typed rows through a bounded buffer) and the watch as an async
/// stream (GenericObject.WatchAsync, QixObject.WatchLayoutsAsync), against the simulator's demo app.
/// </summary>
public sealed class ExtractionTests : IDisposable
{
    private readonly Simulator _sim = Simulator.Start();

    public void Dispose() => _sim.Dispose();

    private static GenericObjectProperties Cube(string dimension) => new()
    {
        Info = new NxInfo { Type = "table" },
        HyperCubeDef = new HyperCubeDef
        {
            Dimensions = new() { new NxDimension { Def = new NxInlineDimensionDef { FieldDefs = new() { dimension } } } },
            Measures = new() { new NxMeasure { Def = new NxInlineMeasureDef { Def = "Sum(Sales)" } } },
        },
    };

    /// <summary>The cube's rows through a GetHyperCubeData page loop, <paramref name="height"/> rows a page.</summary>
    private static async Task<List<List<NxCell>>> PageLoop(GenericObject cube, int height)
    {
        int rows = (await cube.GetLayoutAsync()).HyperCube!.Size!.Cy!.Value;
        var all = new List<List<NxCell>>();
        for (int top = 0; top < rows; top += height)
        {
            List<NxDataPage> pages = await cube.GetHyperCubeDataAsync("/qHyperCubeDef",
                new() { new NxPage { Top = top, Left = 0, Width = 2, Height = Math.Min(height, rows - top) } });
            all.AddRange(pages[0].Matrix!);
        }
        return all;
    }

    private static async Task<List<Row>> Collect(IAsyncEnumerable<Row> rows)
    {
        var all = new List<Row>();
        await foreach (Row row in rows) all.Add(row);
        return all;
    }

    private static void AssertSameRows(List<List<NxCell>> expected, List<Row> got)
    {
        Assert.Equal(expected.Count, got.Count);
        for (int i = 0; i < got.Count; i++)
        {
            Assert.Equal(i, got[i].Index);  // every row once, in order
            Assert.Equal(expected[i].Count, got[i].Count);
            for (int c = 0; c < got[i].Count; c++)
            {
                NxCell want = expected[i][c], cell = got[i][c];
                Assert.Equal(want.Text, cell.Text);
                Assert.Equal(want.Num, cell.Num);
                Assert.Equal(want.State, cell.State);
                Assert.Equal(want.ElemNumber, cell.ElemNumber);
            }
        }
    }

    [Theory]
    [InlineData("Customer", 7, 2)]   // 50 rows: 8 pages
    [InlineData("Customer", 7, 4)]
    [InlineData("OrderId", 7, 3)]    // 2000 rows: 286 pages, more rows than the buffer holds
    [InlineData("OrderId", 0, 0)]    // the defaults: one page
    public async Task ExtractsEveryRowOnceInOrderWithTheValuesOfAPageLoop(string dimension, int pageHeight, int window)
    {
        await using Session session = await Session.OpenAsync(_sim.AppUrl());
        await using Doc doc = await session.OpenDocAsync("demo");
        await using GenericObject cube = (await doc.CreateSessionObjectAsync(Cube(dimension)))!;

        List<Row> rows = await Collect(cube.ExtractAsync("/qHyperCubeDef", pageHeight, window));
        List<List<NxCell>> expected = await PageLoop(cube, 7);
        Assert.True(rows.Count > 7, "more than one page");
        AssertSameRows(expected, rows);
        Assert.NotNull(rows[0][0].State);
        Assert.NotNull(rows[0][1].Num);
        Assert.Equal(0, Extraction.ActiveCount);
    }

    [Fact]
    public async Task ExtractsTheCurrentSelection()
    {
        await using Session session = await Session.OpenAsync(_sim.AppUrl());
        await using Doc doc = await session.OpenDocAsync("demo");
        await using GenericObject cube = (await doc.CreateSessionObjectAsync(Cube("Customer")))!;
        await Scenario.SelectAsync(doc, "Region", "Nordic");

        List<Row> rows = await Collect(cube.ExtractAsync(pageHeight: 3, window: 2));
        AssertSameRows(await PageLoop(cube, 3), rows);
        Assert.InRange(rows.Count, 1, 49);
    }

    [Fact]
    public async Task BreakingOutOfTheLoopStopsTheExtraction()
    {
        await using Session session = await Session.OpenAsync(_sim.AppUrl());
        await using Doc doc = await session.OpenDocAsync("demo");
        await using GenericObject cube = (await doc.CreateSessionObjectAsync(Cube("OrderId")))!;

        var taken = new List<Row>();
        await foreach (Row row in cube.ExtractAsync(pageHeight: 7, window: 4))
        {
            taken.Add(row);
            if (taken.Count == 10) break;
        }
        // The loop's end waited for the extraction's end.
        Assert.Equal(0, Extraction.ActiveCount);
        Assert.Equal(10, taken.Count);
        AssertSameRows((await PageLoop(cube, 7)).GetRange(0, 10), taken);

        // The session goes on: another extraction on the same object runs to its end.
        Assert.Equal(2000, (await Collect(cube.ExtractAsync(pageHeight: 500))).Count);
    }

    [Fact]
    public async Task TheLoopBodyMayAwaitCallsOfTheSameSession()
    {
        // Each row waits for a call of the same session while the row callback fills the buffer: its answer comes
        // after the rows on the session's event thread, so the row callback must not block then (no deadlock).
        await using Session session = await Session.OpenAsync(_sim.AppUrl());
        await using Doc doc = await session.OpenDocAsync("demo");
        await using GenericObject cube = (await doc.CreateSessionObjectAsync(Cube("OrderId")))!;

        long count = 0;
        await foreach (Row row in cube.ExtractAsync(pageHeight: 7, window: 4))
        {
            Assert.Equal(count++, row.Index);
            Assert.Equal("2", await doc.EvaluateAsync("1+1"));
            if (row.Index % 500 == 0) Assert.Equal(2000, (await cube.GetLayoutAsync()).HyperCube!.Size!.Cy);
        }
        Assert.Equal(2000, count);
        Assert.Equal(0, session.PendingCalls);
    }

    [Fact]
    public async Task CancellingTheTokenStopsTheExtraction()
    {
        await using Session session = await Session.OpenAsync(_sim.AppUrl());
        await using Doc doc = await session.OpenDocAsync("demo");
        await using GenericObject cube = (await doc.CreateSessionObjectAsync(Cube("OrderId")))!;

        using var cts = new CancellationTokenSource();
        int seen = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (Row row in cube.ExtractAsync(pageHeight: 7, window: 2, cancellationToken: cts.Token))
            {
                Assert.Equal(seen, row.Index);
                if (++seen == 5) cts.Cancel();
            }
        });
        Assert.Equal(5, seen);
        Assert.Equal(0, Extraction.ActiveCount);

        // An already cancelled token: nothing starts.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Collect(cube.ExtractAsync(cancellationToken: cts.Token)));
        Assert.Equal(0, Extraction.ActiveCount);
    }

    [Fact]
    public async Task ABadPathIsAQixException()
    {
        await using Session session = await Session.OpenAsync(_sim.AppUrl());
        await using Doc doc = await session.OpenDocAsync("demo");
        await using GenericObject cube = (await doc.CreateSessionObjectAsync(Cube("Customer")))!;

        var e = await Assert.ThrowsAsync<QixException>(() => Collect(cube.ExtractAsync("/qNoSuchDef", 7, 2)));
        Assert.Equal(QixStatus.InvalidArgument, e.Status);
        Assert.Equal(0, Extraction.ActiveCount);
        Assert.Throws<ArgumentNullException>(() => cube.ExtractAsync(null!));
    }

    [Fact]
    public async Task TheSessionsEndIsAQixExceptionAfterTheRowsBefore()
    {
        Session session = await Session.OpenAsync(_sim.AppUrl());
        Doc doc = await session.OpenDocAsync("demo");
        GenericObject cube = (await doc.CreateSessionObjectAsync(Cube("OrderId")))!;

        // One row taken, then the session disposed while the row callback may be waiting for room (at most
        // 256 rows buffered of 2000): the loop gets the rows delivered before, then the session's end.
        await using IAsyncEnumerator<Row> rows = cube.ExtractAsync(pageHeight: 7, window: 4).GetAsyncEnumerator();
        Assert.True(await rows.MoveNextAsync());
        await session.DisposeAsync();
        long next = 1;
        var e = await Assert.ThrowsAsync<QixException>(async () =>
        {
            while (await rows.MoveNextAsync()) Assert.Equal(next++, rows.Current.Index);
        });
        Assert.Contains(e.Status, new[] { QixStatus.Closed, QixStatus.Connection });
        Assert.InRange(next, 1, 1999);
        Assert.Equal(0, Extraction.ActiveCount);

        // A disposed object: nothing starts.
        await Assert.ThrowsAsync<ObjectDisposedException>(() => Collect(cube.ExtractAsync()));
    }

    [Fact]
    public async Task WatchDeliversTypedLayoutsUntilTheLoopEnds()
    {
        await using Session session = await Session.OpenAsync(_sim.AppUrl());
        await using Doc doc = await session.OpenDocAsync("demo");
        await using GenericObject cube = (await doc.CreateSessionObjectAsync(Cube("Region")))!;

        await using (IAsyncEnumerator<GenericObjectLayout> layouts = cube.WatchAsync().GetAsyncEnumerator())
        {
            // Not fetched yet: a layout at once.
            Assert.True(await layouts.MoveNextAsync());
            Assert.Equal(6, layouts.Current.HyperCube!.Size!.Cy);
            Assert.Equal(1, LayoutWatch.ActiveCount);

            // A selection changes the object: the watch fetches the fresh layout.
            await Scenario.SelectAsync(doc, "Region", "Nordic");
            Assert.True(await layouts.MoveNextAsync());
            Assert.Equal(1, layouts.Current.HyperCube!.Size!.Cy);
        }
        Assert.Equal(0, LayoutWatch.ActiveCount);

        // Stopped: a change is no longer fetched.
        await doc.ClearAllAsync();
        Assert.False(cube.IsValid);
    }

    [Fact]
    public async Task WatchLayoutsAsJsonStopsOnCancellation()
    {
        await using Session session = await Session.OpenAsync(_sim.AppUrl());
        await using Doc doc = await session.OpenDocAsync("demo");
        await using GenericObject cube = (await doc.CreateSessionObjectAsync(Cube("Region")))!;

        using var cts = new CancellationTokenSource();
        var sizes = new List<int>();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (JsonElement layout in ((QixObject)cube).WatchLayoutsAsync(cts.Token))
            {
                sizes.Add(layout.GetProperty("qHyperCube").GetProperty("qSize").GetProperty("qcy").GetInt32());
                if (sizes.Count == 1) await Scenario.SelectAsync(doc, "Region", "Nordic");
                else cts.Cancel();
            }
        });
        Assert.Equal(new[] { 6, 1 }, sizes);
        Assert.Equal(0, LayoutWatch.ActiveCount);
    }
}
