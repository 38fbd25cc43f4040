using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text.Json;
using System.Threading.Tasks;
using Qix.Api;
using Xunit;

namespace Qix.Tests;

/// <summary>
/// The generated typed API (namespace Qix.Api) is the whole Engine API of the specification: every method of
/// spec/engine-rpc-*.json (the directory QIX_SPEC_DIR, which CTest passes) is a typed method of its class.
/// </summary>
public sealed class TypedManifestTests
{
    private static readonly string[] Classes =
    {
        "Global", "Doc", "GenericObject", "Field", "GenericDimension", "GenericBookmark", "GenericMeasure",
        "GenericVariable", "Variable",
    };

    [Fact]
    public void MethodsWithoutParametersShareOneEmptyParamsThatTakesNone()
    {
        // The generated methods without parameters pass ApiParams.None (no object per call): it sends {} and
        // refuses a parameter, which would otherwise reach every later call of every such method.
        Assert.Equal("{}", ApiParams.None.ToJson());
        Assert.Throws<InvalidOperationException>(() => ApiParams.None.Add("qX", 1));
        Assert.Equal("{}", ApiParams.None.ToJson());
        Assert.Equal("{\"qX\":1}", new ApiParams().Add("qX", 1).ToJson());
    }

    [Fact]
    public void EveryMethodOfTheSpecIsATypedMethodOfItsClass()
    {
        string dir = Environment.GetEnvironmentVariable("QIX_SPEC_DIR")
                     ?? throw new InvalidOperationException("QIX_SPEC_DIR must name spec/ (CTest sets it)");
        string rpc = Directory.GetFiles(dir, "engine-rpc-*.json").Single();
        using JsonDocument spec = JsonDocument.Parse(File.ReadAllText(rpc));
        var expected = new SortedSet<string>(
            spec.RootElement.GetProperty("methods").EnumerateArray().Select(m => m.GetProperty("name").GetString()!));

        var found = new SortedSet<string>();
        foreach (string cls in Classes)
        {
            Type type = typeof(Doc).Assembly.GetType("Qix.Api." + cls) ?? throw new Exception("no class " + cls);
            Assert.True(type.IsSubclassOf(typeof(QixObject)), cls + " derives from QixObject");
            foreach (MethodInfo method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            {
                var attr = method.GetCustomAttribute<EngineMethodAttribute>();
                if (attr == null) continue;
                Assert.Equal(cls, attr.ClassName);
                Assert.Equal(attr.MethodName + "Async", method.Name, StringComparer.OrdinalIgnoreCase);
                Assert.True(typeof(Task).IsAssignableFrom(method.ReturnType), method.Name + " returns a Task");
                Assert.True(found.Add(cls + "." + attr.MethodName), "twice: " + cls + "." + attr.MethodName);
            }
        }
        Assert.Equal(expected, found);
        Assert.Equal(336, found.Count);
        Console.WriteLine($"typed methods: {found.Count}/{expected.Count} of {Path.GetFileName(rpc)}");
    }
}

/// <summary>Typed calls against the simulator, across the 9 classes (see <see cref="StandIns"/> for 4 of them).</summary>
public sealed class TypedCallTests : IDisposable
{
    private readonly Simulator _sim = Simulator.Start();

    public void Dispose() => _sim.Dispose();

    private static GenericObjectProperties RegionCube(string id) => new()
    {
        Info = new NxInfo { Id = id, Type = "table" },
        HyperCubeDef = new HyperCubeDef
        {
            Dimensions = new() { new NxDimension { Def = new NxInlineDimensionDef { FieldDefs = new() { "Region" } } } },
            Measures = new() { new NxMeasure { Def = new NxInlineMeasureDef { Def = "Sum(Sales)" } } },
            InitialDataFetch = new() { new NxPage { Top = 0, Left = 0, Width = 2, Height = 3 } },
        },
    };

    [Fact]
    public async Task GlobalDocFieldAndVariableMethods()
    {
        await using Session session = await Session.OpenAsync(_sim.AppUrl());
        Global global = session.Global;
        Assert.False(string.IsNullOrEmpty((await global.EngineVersionAsync()).ComponentVersion));
        Assert.False(string.IsNullOrEmpty(await global.QTProductAsync()));
        Assert.Contains(await global.GetDocListAsync(), d => d.DocId == "demo");
        Assert.False(await global.IsDesktopModeAsync());
        Assert.False(string.IsNullOrEmpty(await global.GetUniqueIDAsync()));
        Assert.False(string.IsNullOrEmpty(await global.OSNameAsync()));

        await using Doc doc = (await global.OpenDocAsync("demo"))!;
        Assert.Equal("Doc", doc.Type);
        await using Doc? active = await global.GetActiveDocAsync();
        Assert.NotNull(active);
        Assert.Equal("demo", active!.GenericId);
        NxAppLayout app = await doc.GetAppLayoutAsync();
        Assert.Equal("Demo sales", app.Title);
        Assert.NotNull(await doc.GetAppPropertiesAsync());
        Assert.Equal("6", await doc.EvaluateAsync("Count(DISTINCT Region)"));
        FieldValue six = await doc.EvaluateExAsync("Count(DISTINCT Region)");
        Assert.Equal(6.0, six.Number);
        GetTablesAndKeysResult model = await doc.GetTablesAndKeysAsync(new Size(), new Size(), 0, false, false);
        Assert.Contains(model.Tr!, t => t.Name == "Orders");

        // Field: selections, typed.
        await using Field region = (await doc.GetFieldAsync("Region"))!;
        Assert.Equal(6, await region.GetCardinalAsync());
        Assert.True(await region.SelectAsync("Nordic"));
        Assert.Equal("1", await doc.EvaluateAsync("Count(DISTINCT Region)"));
        Assert.True(await region.ToggleSelectAsync("DACH"));
        Assert.Equal("2", await doc.EvaluateAsync("Count(DISTINCT Region)"));
        Assert.True(await region.LockAsync());
        Assert.True(await region.UnlockAsync());
        Assert.True(await region.SelectValuesAsync(new() { new FieldValue { Text = "UK" } }));
        Assert.Equal("1", await doc.EvaluateAsync("Count(DISTINCT Region)"));
        Assert.True(await region.SelectAllAsync());
        Assert.True(await region.ClearAsync());
        await doc.ClearAllAsync();
        Assert.Null(await doc.GetFieldAsync("NoSuchField"));
        // With a token but without the optional state: still the typed Field.
        await using Field? again = await doc.GetFieldAsync("Region", System.Threading.CancellationToken.None);
        Assert.Equal(6, await again!.GetCardinalAsync());

        // GenericVariable.
        await using GenericVariable v = (await doc.CreateSessionVariableAsync(
            new GenericVariableProperties { Name = "vTyped", Definition = "1+2" }))!;
        Assert.Equal("GenericVariable", v.GetType().Name);
        await v.SetStringValueAsync("hello");
        Assert.Equal("hello", (await v.GetLayoutAsync()).Text);
        await v.SetNumValueAsync(42);
        Assert.Equal(42.0, (await v.GetLayoutAsync()).Num);
        Assert.Equal("vTyped", (await v.GetPropertiesAsync()).Name);
        await using GenericVariable? byName = await doc.GetVariableByNameAsync("vTyped");
        Assert.Equal(v.GenericId, byName!.GenericId);
        await using GenericVariable? byId = await doc.GetVariableByIdAsync(v.GenericId);
        Assert.NotNull(byId);
        Assert.Null(await doc.GetVariableByNameAsync("vNone"));
    }

    [Fact]
    public async Task HypercubePagingSelectionsAndChangedOnTypedObjects()
    {
        await using Session session = await Session.OpenAsync(_sim.AppUrl());
        await using Doc doc = await session.OpenDocAsync("demo");
        await using GenericObject cube = (await doc.CreateSessionObjectAsync(RegionCube("cube1")))!;
        Assert.Equal("cube1", (await cube.GetInfoAsync()).Id);

        GenericObjectLayout layout = await cube.GetLayoutAsync();
        HyperCube hc = layout.HyperCube!;
        Assert.Equal(6, hc.Size!.Cy);
        Assert.Equal(3, hc.DataPages![0].Matrix!.Count);
        Assert.NotNull(hc.DataPages[0].Matrix![0][0].State);

        // Paging: rows 3..5.
        List<NxDataPage> pages = await cube.GetHyperCubeDataAsync("/qHyperCubeDef",
            new() { new NxPage { Top = 3, Left = 0, Width = 2, Height = 3 } });
        Assert.Equal(3, pages[0].Matrix!.Count);
        Assert.Equal(3, pages[0].Area!.Top);
        string first = pages[0].Matrix![0][0].Text!;

        // A selection through the cube raises Changed; the new layout has one row.
        var changed = Scenario.Signal();
        cube.Changed += (_, _) => Scenario.SetOn(changed);
        await cube.GetLayoutAsync();
        Assert.True(await cube.SelectHyperCubeValuesAsync("/qHyperCubeDef", 0,
            new() { pages[0].Matrix![0][0].ElemNumber!.Value }, false));
        await changed.Task;
        HyperCube after = (await cube.GetLayoutAsync()).HyperCube!;
        Assert.Equal(1, after.Size!.Cy);
        Assert.Equal(first, after.DataPages![0].Matrix![0][0].Text);
        Assert.Equal(StateEnumType.Selected, after.DataPages[0].Matrix![0][0].State);
        await cube.ClearSelectionsAsync("/qHyperCubeDef");
        Assert.Equal(6, (await cube.GetLayoutAsync()).HyperCube!.Size!.Cy);

        // A list object: its data, a selection.
        await using GenericObject list = (await doc.CreateSessionObjectAsync(new GenericObjectProperties
        {
            Info = new NxInfo { Type = "list" },
            ListObjectDef = new ListObjectDef
            {
                Def = new NxInlineDimensionDef { FieldDefs = new() { "Category" } },
                InitialDataFetch = new() { new NxPage { Width = 1, Height = 10 } },
            },
        }))!;
        List<NxDataPage> values = await list.GetListObjectDataAsync("/qListObjectDef",
            new() { new NxPage { Width = 1, Height = 10 } });
        Assert.Equal(4, values[0].Matrix!.Count);
        Assert.True(await list.SelectListObjectValuesAsync("/qListObjectDef", new() { 0 }, false));
        Assert.Equal("1", await doc.EvaluateAsync("Count(DISTINCT Category)"));

        // Properties as JSON text give the typed class too.
        await using GenericObject fromJson = await doc.CreateSessionObjectAsync(Scenario.RegionSalesCube);
        Assert.Equal(6, (await fromJson.GetLayoutAsync()).HyperCube!.Size!.Cy);

        // Objects: found, not found (null), listed, destroyed.
        await using GenericObject? again = await doc.GetObjectAsync("cube1");
        Assert.Equal("cube1", again!.GenericId);
        Assert.Null(await doc.GetObjectAsync("no-such-object"));
        Assert.Contains(await doc.GetAllInfosAsync(), i => i.Id == "cube1");
        Assert.True(await doc.DestroySessionObjectAsync(list.GenericId));
    }

    /// <summary>
    /// The simulator has no dimensions, measures, bookmarks or Variable objects. Stand-ins: the typed classes
    /// over a GenericObject handle (the typed call path's object factory, internal), whose GetInfo, GetLayout,
    /// GetProperties and SetProperties the simulator answers as a GenericObject's; Variable's methods, which
    /// it lacks, answer an engine error, surfaced as a QixException.
    /// </summary>
    [Fact]
    public async Task StandIns()
    {
        await using Session session = await Session.OpenAsync(_sim.AppUrl());
        await using Doc doc = await session.OpenDocAsync("demo");
        await using GenericObject cube = (await doc.CreateSessionObjectAsync(RegionCube("lib1")))!;

        await using var dim = await As(doc, "lib1", (s, n) => new GenericDimension(s, n));
        Assert.Equal("lib1", (await dim.GetInfoAsync()).Id);
        GenericDimensionProperties dimProps = await dim.GetPropertiesAsync();
        Assert.True(dimProps.ExtensionData!.ContainsKey("qHyperCubeDef"));
        await dim.SetPropertiesAsync(dimProps);
        Assert.Equal("lib1", (await dim.GetLayoutAsync()).Info!.Id);

        await using var measure = await As(doc, "lib1", (s, n) => new GenericMeasure(s, n));
        Assert.Equal("table", (await measure.GetInfoAsync()).Type);
        Assert.NotNull((await measure.GetLayoutAsync()).ExtensionData);

        await using var bookmark = await As(doc, "lib1", (s, n) => new GenericBookmark(s, n));
        Assert.Equal("lib1", (await bookmark.GetInfoAsync()).Id);
        Assert.Equal("lib1", (await bookmark.GetPropertiesAsync()).Info!.Id);

        await using var variable = await As(doc, "lib1", (s, n) => new Variable(s, n));
#pragma warning disable CS0618  // Variable's methods are deprecated by the specification: calling one is the point
        var e = await Assert.ThrowsAsync<QixException>(() => variable.GetRawContentAsync());
#pragma warning restore CS0618
        Assert.True(e.IsEngineError);
        Assert.Equal(-32601, e.EngineCode);
    }

    [Fact]
    public async Task AMethodTheSimulatorLacksIsAnEngineError()
    {
        await using Session session = await Session.OpenAsync(_sim.AppUrl());
        await using Doc doc = await session.OpenDocAsync("demo");
        var e = await Assert.ThrowsAsync<QixException>(() => doc.CreateBookmarkAsync(
            new GenericBookmarkProperties { Info = new NxInfo { Type = "bookmark" } }));
        Assert.Equal(QixStatus.Engine, e.Status);
        Assert.Equal(-32601, e.EngineCode);
        // The session goes on.
        Assert.Equal("6", await doc.EvaluateAsync("Count(DISTINCT Region)"));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task TypedAnswersDecodeAlikeWhereverContinuationsRun(bool synchronous)
    {
        // A typed call's task is its decoded value, made where the answer is delivered: from libqix's own text
        // on the event thread (the default), from a pooled copy on the thread pool's way.
        using var options = new SessionOptions(_sim.AppUrl()) { AllowSynchronousContinuations = synchronous };
        await using Session session = await Session.OpenAsync(options);
        Global global = session.Global;
        await using Doc doc = (await global.OpenDocAsync("demo"))!;

        // A burst in flight at once: each answer is its own (a buffer reused too early would mix them up).
        Task<string>[] texts = Enumerable.Range(0, 300).Select(i => doc.EvaluateAsync($"='t{i}' & '{new string('x', i % 97)}'")).ToArray();
        Task<long>[] counts = Enumerable.Range(0, 100).Select(_ => doc.GetFieldAsync("Region"))
                                 .Select(async f => { await using Field field = (await f)!; return await field.GetCardinalAsync(); })
                                 .ToArray();
        string[] got = await Task.WhenAll(texts);
        for (int i = 0; i < got.Length; i++) Assert.Equal($"t{i}" + new string('x', i % 97), got[i]);
        Assert.All(await Task.WhenAll(counts), c => Assert.Equal(6L, c));

        // A value, a whole result, nothing: the same as the generic call's answer.
        QixResult generic = await session.CallAsync("EngineVersion");
        Assert.Equal(generic.Value.GetProperty("qComponentVersion").GetString(),
                     (await global.EngineVersionAsync()).ComponentVersion);
        GetTablesAndKeysResult model = await doc.GetTablesAndKeysAsync(new Size(), new Size(), 0, false, false);
        Assert.Contains(model.Tr!, t => t.Name == "Orders");
        await using Field region = (await doc.GetFieldAsync("Region"))!;
        Assert.True(await region.SelectAsync("Nordic"));
        await doc.ClearAllAsync();
        Assert.Equal("6", await doc.EvaluateAsync("Count(DISTINCT Region)"));
        // An engine error faults a typed task the same way.
        var e = await Assert.ThrowsAsync<QixException>(() => doc.EvaluateAsync("Sum(Sales"));
        Assert.Equal(QixStatus.Engine, e.Status);
        Assert.Equal(0, session.PendingCalls);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ADecoderSeesTheWholeResultAndWhatItThrowsFaultsTheTask(bool synchronous)
    {
        using var options = new SessionOptions(_sim.AppUrl()) { AllowSynchronousContinuations = synchronous };
        await using Session session = await Session.OpenAsync(options);
        QixResult generic = await session.CallAsync("EngineVersion");
        // The decoder gets the whole result's UTF-8, the wire name and the reader it was given.
        ApiReader<string> reader = (ref System.Text.Json.Utf8JsonReader r) => r.GetString()!;
        string seen = await Qix.Internal.Calls.IssueDecoded(
            session.Global, "EngineVersion", "{}",
            (raw, wire, read) => System.Text.Encoding.UTF8.GetString(raw.ToArray()) + "|" + wire + "|" + (read == reader),
            "qVersion", reader, default);
        Assert.Equal(generic.RawJson + "|qVersion|True", seen);
        // What it throws is the task's fault; the session goes on.
        var thrown = new FormatException("not this shape");
        Task<int> bad = Qix.Internal.Calls.IssueDecoded<int>(session.Global, "EngineVersion", "{}",
                                                             (_, _, _) => throw thrown, null, null, default);
        Assert.Same(thrown, await Assert.ThrowsAsync<FormatException>(() => bad));
        Assert.Equal("Qlik Sense", await session.Global.QTProductAsync());
        Assert.Equal(0, session.PendingCalls);
    }

    private static async Task<T> As<T>(Doc doc, string id, Func<Session, Qix.Interop.NativeObject, T> make)
        where T : QixObject
    {
        QixResult r = await doc.CallTypedAsync("GetObject", "{\"qId\":\"" + id + "\"}", make, default);
        return (T)r.Object!;
    }
}

/// <summary>JSON of the generated types: open structs keep unknown members, doubles take NaN/Infinity, enums any symbol.</summary>
public sealed class TypedJsonTests : IDisposable
{
    private readonly Simulator _sim = Simulator.Start();

    public void Dispose() => _sim.Dispose();

    [Fact]
    public async Task GetPropertiesThenSetPropertiesKeepsAnUnknownMember()
    {
        await using Session session = await Session.OpenAsync(_sim.AppUrl());
        await using Doc doc = await session.OpenDocAsync("demo");
        var props = ApiJson.Deserialize<GenericObjectProperties>(
            "{\"qInfo\":{\"qId\":\"rt\",\"qType\":\"custom\"},\"myExtra\":{\"a\":[1,2]},\"qStringExpression\":{\"qExpr\":\"='x'\"}}")!;
        Assert.True(props.ExtensionData!.ContainsKey("myExtra"));
        await using GenericObject obj = (await doc.CreateSessionObjectAsync(props))!;

        GenericObjectProperties read = await obj.GetPropertiesAsync();
        Assert.Equal("[1,2]", read.ExtensionData!["myExtra"].GetProperty("a").GetRawText());
        read.ExtensionData["another"] = JsonDocument.Parse("\"new\"").RootElement.Clone();
        Assert.Equal("='x'", read.StringExpression!.Expr);
        read.StringExpression.Expr = "='y'";
        await obj.SetPropertiesAsync(read);

        GenericObjectProperties again = await obj.GetPropertiesAsync();
        Assert.Equal("='y'", again.StringExpression!.Expr);
        Assert.Equal("custom", again.Info!.Type);
        Assert.Equal("[1,2]", again.ExtensionData!["myExtra"].GetProperty("a").GetRawText());
        Assert.Equal("new", again.ExtensionData["another"].GetString());
        Assert.Contains("\"myExtra\":{\"a\":[1,2]}", ApiJson.Serialize(again));
    }

    [Fact]
    public void DoublesTakeNaNAndInfinitiesEnumsTakeAnySymbol()
    {
        var cell = ApiJson.Deserialize<NxCell>("{\"qText\":\"-\",\"qNum\":\"NaN\",\"qState\":\"ZZ\"}")!;
        Assert.True(double.IsNaN(cell.Num!.Value));
        Assert.Equal("ZZ", cell.State!.Value.Value);
        Assert.Null(cell.State.Value.Ordinal);
        Assert.Equal("{\"qText\":\"-\",\"qNum\":\"NaN\",\"qState\":\"ZZ\"}", ApiJson.Serialize(cell));

        var range = ApiJson.Deserialize<Qix.Api.Range>("{\"qMin\":\"-Infinity\",\"qMax\":\"Infinity\"}")!;
        Assert.Equal(double.NegativeInfinity, range.Min);
        Assert.Equal(double.PositiveInfinity, range.Max);
        Assert.Equal("{\"qMin\":\"-Infinity\",\"qMax\":\"Infinity\"}", ApiJson.Serialize(range));

        // The types carry it themselves: System.Text.Json's default options too, arrays of doubles too.
        var node = JsonSerializer.Deserialize<NxTreeNode>("{\"qMaxPos\":[\"NaN\",1.5,\"-Infinity\"]}")!;
        Assert.True(double.IsNaN(node.MaxPos![0]));
        Assert.Equal(double.NegativeInfinity, node.MaxPos[2]);
        Assert.Contains("\"qMaxPos\":[\"NaN\",1.5,\"-Infinity\"]", JsonSerializer.Serialize(node));

        var known = ApiJson.Deserialize<NxCell>("{\"qState\":\"S\"}")!;
        Assert.Equal(StateEnumType.Selected, known.State);
        Assert.Equal(1, known.State!.Value.Ordinal);
        Assert.Equal(StateEnumType.Selected, ApiJson.Deserialize<NxCell>("{\"qState\":1}")!.State);  // an ordinal
        Assert.Equal("99", ApiJson.Deserialize<NxCell>("{\"qState\":99}")!.State!.Value.Value);
        Assert.Equal("{}", ApiJson.Serialize(new NxCell()));  // null members are not sent
    }
}
