// The libqix C# binding in one program: connect, open an app, build a hypercube, follow its changes,
// select, read the refreshed layout, and cancel a call, with the typed Engine API (namespace Qix.Api) and,
// for a method newer than the specification, the generic call. Run against the bundled simulator
// (qix-engine-sim prints its URL) or a real engine:
//   dotnet run -- ws://localhost:9076/app/demo
using Qix;
using Qix.Api;

string url = args.Length > 0 ? args[0].TrimEnd('/') : "ws://localhost:9076";
if (!url.Contains("/app/")) url += "/app/demo";

// A handler that throws is reported here, never fatal.
QixDiagnostics.HandlerException += (_, e) => Console.Error.WriteLine($"handler of {e.EventName} failed: {e.Exception.Message}");

using var options = new SessionOptions(url).Set("timeout.call_ms", 30_000);
await using Session session = await Session.OpenAsync(options);
session.Closed += (_, e) => Console.WriteLine($"session closed ({e.CloseCode})");
Console.WriteLine($"connected to {url} (libqix {QixDiagnostics.NativeVersion})");

await using Doc doc = await session.OpenDocAsync("demo");
Console.WriteLine($"opened {doc.GenericId}; Sum(Sales) = {await doc.EvaluateAsync("Sum(Sales)")}");

// A hypercube: sales per region, its properties as typed objects (members left null are not sent).
var cubeProperties = new GenericObjectProperties
{
    Info = new NxInfo { Type = "sales-by-region" },
    HyperCubeDef = new HyperCubeDef
    {
        Dimensions = new() { new NxDimension { Def = new NxInlineDimensionDef { FieldDefs = new() { "Region" } } } },
        Measures = new() { new NxMeasure { Def = new NxInlineMeasureDef { Def = "Sum(Sales)" } } },
        InitialDataFetch = new() { new NxPage { Top = 0, Left = 0, Width = 2, Height = 50 } },
    },
};
await using GenericObject cube = await doc.CreateSessionObjectAsync(cubeProperties)
                                 ?? throw new InvalidOperationException("no cube");
PrintCube("layout", await cube.GetLayoutAsync());

// Changed is raised on the thread pool after the engine invalidates the object.
var changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
cube.Changed += (_, _) =>
{
    Console.WriteLine("changed");
    changed.TrySetResult();
};

// Select Category = Bikes through the Field API; GetField answers null for a field that does not exist.
await using (Field category = await doc.GetFieldAsync("Category") ?? throw new InvalidOperationException("no Category"))
    Console.WriteLine($"selected Bikes: {await category.SelectAsync("Bikes")}");
await changed.Task.WaitAsync(TimeSpan.FromSeconds(30));
PrintCube("updated layout", await cube.GetLayoutAsync());

// The generic call reaches any method, e.g. one newer than the specification, with JSON in and out.
QixResult version = await session.Global.CallAsync("EngineVersion");
Console.WriteLine($"engine version: {version.Value.GetProperty("qComponentVersion")}");

// Cancellation: a token cancels the engine request (CancelRequest) and the task.
using (var cts = new CancellationTokenSource())
{
    Task<string> slow = doc.EvaluateAsync("Count(DISTINCT OrderId)", cts.Token);
    cts.Cancel();
    try
    {
        string r = await slow;
        Console.WriteLine($"answered before the cancellation arrived: {r}");
    }
    catch (OperationCanceledException)
    {
        Console.WriteLine("cancelled");
    }
}

// Engine errors keep the engine's code and LOCERR name (one app per session: a second session asks).
await using (Session other = await Session.OpenAsync(options))
{
    try
    {
        await other.OpenDocAsync("no-such-app");
    }
    catch (QixException e) when (e.IsEngineError)
    {
        Console.WriteLine($"engine error {e.EngineCode} {e.LocErrName}: {e.Message}");
    }
}

Console.WriteLine("ok");

static void PrintCube(string title, GenericObjectLayout layout)
{
    Console.WriteLine($"{title}:");
    foreach (List<NxCell> row in layout.HyperCube!.DataPages![0].Matrix!)
        Console.WriteLine($"  {row[0].Text,-10} {row[1].Text}");
}
