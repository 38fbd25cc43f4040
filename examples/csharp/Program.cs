// The libqix C# binding in one program: connect, open an app, build a hypercube, follow its changes,
// select, read the refreshed layout, and cancel a call. Run against the bundled simulator
// (qix-engine-sim prints its URL) or a real engine:
//   dotnet run -- ws://localhost:9076/app/demo
using System.Text.Json;
using Qix;

string url = args.Length > 0 ? args[0].TrimEnd('/') : "ws://localhost:9076";
if (!url.Contains("/app/")) url += "/app/demo";

// A handler that throws is reported here, never fatal.
QixDiagnostics.HandlerException += (_, e) => Console.Error.WriteLine($"handler of {e.EventName} failed: {e.Exception.Message}");

using var options = new SessionOptions(url).Set("timeout.call_ms", 30_000);
await using Session session = await Session.OpenAsync(options);
session.Closed += (_, e) => Console.WriteLine($"session closed ({e.CloseCode})");
Console.WriteLine($"connected to {url} (libqix {QixDiagnostics.NativeVersion})");

await using QixObject doc = await session.OpenDocAsync("demo");
Console.WriteLine($"opened {doc.GenericId}; Sum(Sales) = {await doc.EvaluateAsync("Sum(Sales)")}");

// A hypercube: sales per region. Properties may be given as text or as a JsonElement.
const string cubeProperties = """
  {"qInfo": {"qType": "sales-by-region"},
   "qHyperCubeDef": {
     "qDimensions": [{"qDef": {"qFieldDefs": ["Region"]}}],
     "qMeasures": [{"qDef": {"qDef": "Sum(Sales)"}}],
     "qInitialDataFetch": [{"qTop": 0, "qLeft": 0, "qWidth": 2, "qHeight": 50}]}}
  """;
await using QixObject cube = await doc.CreateSessionObjectAsync(cubeProperties);
PrintCube("layout", await cube.GetLayoutAsync());

// Changed is raised on the thread pool after the engine invalidates the object.
var changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
cube.Changed += (_, _) =>
{
    Console.WriteLine("changed");
    changed.TrySetResult();
};

// Select Category = Bikes through the Field API.
await using (QixObject category = await doc.GetFieldAsync("Category") ?? throw new InvalidOperationException("no Category"))
{
    QixResult selected = await category.CallAsync("Select", QixJson.Params("Bikes"));
    Console.WriteLine($"selected Bikes: {selected.Json}");
}
await changed.Task.WaitAsync(TimeSpan.FromSeconds(30));
PrintCube("updated layout", await cube.GetLayoutAsync());

// Cancellation: a token cancels the engine request (CancelRequest) and the task.
using (var cts = new CancellationTokenSource())
{
    Task<QixResult> slow = doc.CallAsync("Evaluate", QixJson.Params("Count(DISTINCT OrderId)"), cts.Token);
    cts.Cancel();
    try
    {
        QixResult r = await slow;
        Console.WriteLine($"answered before the cancellation arrived: {r.Json}");
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

static void PrintCube(string title, JsonElement layout)
{
    Console.WriteLine($"{title}:");
    foreach (JsonElement row in layout.GetProperty("qHyperCube").GetProperty("qDataPages")[0].GetProperty("qMatrix").EnumerateArray())
        Console.WriteLine($"  {row[0].GetProperty("qText").GetString(),-10} {row[1].GetProperty("qText").GetString()}");
}
