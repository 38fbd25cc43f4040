using System;
using System.Text;
using System.Text.Json;
using System.Threading;

namespace Qix;

/// <summary>
/// The outcome of a successful call: JSON text as the engine sent it (delta patches already applied), plus
/// <see cref="System.Text.Json"/> views of it. Immutable and thread-safe.
/// </summary>
public sealed class QixResult
{
    // The texts as the engine's UTF-8 (results of asynchronous calls: decoded into strings on first use only,
    // the typed API reads the bytes), or as strings (results of blocking calls). The unwrapped result is
    // [_jsonOffset, _jsonOffset + _jsonLength) of _jsonUtf8, which is often _rawUtf8 itself (the unwrapped
    // text is a part of the whole: one copy of the answer, not two).
    private readonly byte[]? _jsonUtf8;
    private readonly int _jsonOffset;
    private readonly int _jsonLength;
    private readonly byte[]? _rawUtf8;
    private string? _json;
    private string? _rawJson;
    // Value and Raw, parsed on first use (boxed JsonElement; published once, whichever thread parses first).
    private object? _value;
    private object? _raw;

    internal QixResult(long requestId, string json, string rawJson, QixObject? obj)
    {
        RequestId = requestId;
        _json = json;
        _rawJson = rawJson;
        Object = obj;
    }

    // jsonUtf8 null: a result of the typed API read as a whole only (never handed to users): no Json, no Value.
    internal QixResult(long requestId, byte[]? jsonUtf8, int jsonOffset, int jsonLength, byte[] rawUtf8, QixObject? obj)
    {
        RequestId = requestId;
        _jsonUtf8 = jsonUtf8;
        _jsonOffset = jsonOffset;
        _jsonLength = jsonLength;
        _rawUtf8 = rawUtf8;
        Object = obj;
    }

    /// <summary>The JSON-RPC request id of the call (> 0).</summary>
    public long RequestId { get; }

    /// <summary>
    /// The result with out parameters unwrapped as enigma.js does: <c>qReturn</c> when present, else the single
    /// out value (GetLayout gives the <c>qLayout</c> itself), else the whole result object.
    /// </summary>
    public string Json =>
        _json ??= _jsonUtf8 != null
                      ? Encoding.UTF8.GetString(_jsonUtf8, _jsonOffset, _jsonLength)
                      : throw new InvalidOperationException("this result keeps the whole result only (RawJson)");

    /// <summary>The engine's whole <c>result</c> object as JSON text.</summary>
    public string RawJson => _rawJson ??= Encoding.UTF8.GetString(_rawUtf8!);

    /// <summary>The engine's whole <c>result</c> object as UTF-8 (the typed API decodes from it).</summary>
    internal byte[] RawUtf8 => _rawUtf8 ?? Encoding.UTF8.GetBytes(_rawJson!);

    /// <summary><see cref="Json"/> parsed (once, on first use); needs no disposal.</summary>
    public JsonElement Value =>
        (JsonElement)(Volatile.Read(ref _value) ??
                      Publish(ref _value, _jsonUtf8 != null
                                              ? Parse(new ReadOnlyMemory<byte>(_jsonUtf8, _jsonOffset, _jsonLength))
                                              : Parse(Json)));

    /// <summary><see cref="RawJson"/> parsed (once, on first use); needs no disposal.</summary>
    public JsonElement Raw =>
        (JsonElement)(Volatile.Read(ref _raw) ?? Publish(ref _raw, _rawUtf8 != null ? Parse(_rawUtf8) : Parse(_rawJson!)));

    /// <summary>
    /// The object the result refers to (OpenDoc, GetObject, CreateSessionObject ...), else null. It belongs to
    /// its session: dispose it when done, or it is released when the session is disposed.
    /// </summary>
    public QixObject? Object { get; }

    /// <summary>A new <see cref="JsonDocument"/> over <see cref="Json"/>; the caller disposes it.</summary>
    public JsonDocument ToJsonDocument() => JsonDocument.Parse(Json);

    /// <summary>Deserializes <see cref="Json"/> into <typeparamref name="T"/> with System.Text.Json.</summary>
    public T? As<T>(JsonSerializerOptions? options = null) => JsonSerializer.Deserialize<T>(Json, options);

    /// <summary>The unwrapped result as JSON text (<see cref="Json"/>).</summary>
    public override string ToString() => Json;

    private static JsonElement Parse(string json)
    {
        using JsonDocument doc = JsonDocument.Parse(json);
        return doc.RootElement.Clone();
    }

    private static object Publish(ref object? slot, JsonElement element)
    {
        object boxed = element;
        return Interlocked.CompareExchange(ref slot, boxed, null) ?? boxed;
    }

    private static JsonElement Parse(ReadOnlyMemory<byte> utf8)
    {
        using JsonDocument doc = JsonDocument.Parse(utf8);
        return doc.RootElement.Clone();
    }
}

/// <summary>Helpers to build call parameters as JSON text.</summary>
public static class QixJson
{
    // Engine params are JSON-RPC, never HTML: no \u0022-style escaping of quotes, '<', '&' or non-ASCII text.
    private static readonly JsonSerializerOptions s_options =
        new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// Positional parameters: the values serialized (System.Text.Json, by their run-time types) as a JSON
    /// array. <c>QixJson.Params("Sum(Sales)")</c> is <c>["Sum(Sales)"]</c>.
    /// </summary>
    public static string Params(params object?[] values) => JsonSerializer.Serialize(values, s_options);

    /// <summary>A string as a JSON string literal (quoted and escaped).</summary>
    public static string Quote(string value) => JsonSerializer.Serialize(value, s_options);
}
