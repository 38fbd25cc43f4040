using System;
using System.IO;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading;
using System.Threading.Tasks;
using Qix.Internal;
using Qix.Interop;

namespace Qix.Api;

/// <summary>
/// Names the Engine API method a typed method calls (e.g. <c>Doc.GetTablesAndKeys</c>): the typed API's
/// manifest, read by reflection (the tests compare it with the specification).
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class EngineMethodAttribute : Attribute
{
    /// <summary>The method <paramref name="className"/>.<paramref name="methodName"/> of the specification.</summary>
    public EngineMethodAttribute(string className, string methodName)
    {
        ClassName = className;
        MethodName = methodName;
    }

    /// <summary>The class of the specification: Global, Doc, GenericObject ...</summary>
    public string ClassName { get; }

    /// <summary>The method name as sent on the wire, e.g. <c>GetTablesAndKeys</c>.</summary>
    public string MethodName { get; }
}

/// <summary>
/// The System.Text.Json settings of the typed API, for use with the generated types in your own code too:
/// members left null are not written (the engine applies its defaults), <c>"NaN"</c>, <c>"Infinity"</c>
/// and <c>"-Infinity"</c> are read and written for doubles, and text is not HTML-escaped. Unknown members of
/// the open types (<c>*Properties</c>, <c>*Layout</c>, <c>NxMeta*</c>) are kept in their
/// <c>ExtensionData</c> and written back.
/// </summary>
public static class ApiJson
{
    /// <summary>The options (read-only: copy them with <c>new JsonSerializerOptions(ApiJson.Options)</c> to change them).</summary>
    public static JsonSerializerOptions Options { get; } = MakeOptions();

    private static JsonSerializerOptions MakeOptions()
    {
        var options = new JsonSerializerOptions
        {
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver(),
        };
        options.MakeReadOnly();
        return options;
    }

    /// <summary>Serializes <paramref name="value"/> with <see cref="Options"/>.</summary>
    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);

    /// <summary>Deserializes <paramref name="json"/> with <see cref="Options"/>.</summary>
    public static T? Deserialize<T>(string json) => JsonSerializer.Deserialize<T>(json, Options);
}

/// <summary>
/// Builds the params of a typed call: a JSON object keyed by the wire names (e.g. <c>{"qId":"x"}</c>). The
/// writer is made on the first parameter: a method without parameters (or with none given) sends <c>{}</c>
/// at no cost.
/// </summary>
internal sealed class ApiParams
{
    /// <summary>
    /// The params of a method without parameters, shared by every such call (it stays empty: <c>{}</c>).
    /// </summary>
    public static readonly ApiParams None = new();

    private MemoryStream? _buffer;
    private Utf8JsonWriter? _writer;

    private Utf8JsonWriter Writer()
    {
        if (_writer == null)
        {
            if (ReferenceEquals(this, None))
                throw new InvalidOperationException("ApiParams.None takes no parameters");
            _buffer = new MemoryStream();
            _writer = new Utf8JsonWriter(_buffer, new JsonWriterOptions { Encoder = ApiJson.Options.Encoder });
            _writer.WriteStartObject();
        }
        return _writer;
    }

    /// <summary>A parameter with its value (a JsonElement left undefined is sent as null).</summary>
    public ApiParams Add<T>(string wire, T value)
    {
        Utf8JsonWriter writer = Writer();
        writer.WritePropertyName(wire);
        if (value is JsonElement element && element.ValueKind == JsonValueKind.Undefined) writer.WriteNullValue();
        else JsonSerializer.Serialize(writer, value, ApiJson.Options);
        return this;
    }

    /// <summary>An optional parameter: its value, or nothing when null (the engine then applies its own default).</summary>
    public ApiParams AddOptional<T>(string wire, T value) => value == null ? this : Add(wire, value);

    public string ToJson()
    {
        if (_writer == null) return "{}";
        _writer.WriteEndObject();
        _writer.Flush();
        string json = Encoding.UTF8.GetString(_buffer!.GetBuffer(), 0, (int)_buffer.Length);
        _writer.Dispose();
        return json;
    }
}

/// <summary>
/// Decodes a typed call's answer from its whole result's UTF-8 (<paramref name="raw"/>, borrowed for the call):
/// the out value <paramref name="wire"/>, or the whole result, read with <paramref name="read"/>.
/// </summary>
internal delegate T ApiDecode<T>(ReadOnlySpan<byte> raw, string? wire, ApiReader<T>? read);

/// <summary>
/// The one call path of the typed methods: the binding's generic call, then the result decoded. The methods
/// that return a value (or nothing) make one task per call, settled with the decoded value where the answer
/// is delivered (<see cref="Calls.IssueDecoded{T}"/>): no <see cref="QixResult"/>, no second task, no async
/// method in between.
/// </summary>
internal static class ApiCall
{
    /// <summary>A method without out values: the task ends when the call has (its result is not read).</summary>
    public static Task VoidAsync(QixObject target, string method, ApiParams parameters,
                                 CancellationToken cancellationToken) =>
        Calls.IssueDecoded(target, method, parameters.ToJson(), Nothing.Decode, null, null, cancellationToken);

    /// <summary>
    /// The out value <paramref name="wire"/> of the result object (its type's default when absent), read with
    /// <paramref name="read"/> (the generated reader of <typeparamref name="T"/>, see <see cref="ApiRead"/>).
    /// </summary>
    public static Task<T> ValueAsync<T>(QixObject target, string method, ApiParams parameters, string wire,
                                        ApiReader<T> read, CancellationToken cancellationToken) =>
        Calls.IssueDecoded(target, method, parameters.ToJson(), MemberOf<T>.Decode, wire, read, cancellationToken);

    /// <summary>
    /// The whole result object as <typeparamref name="T"/> (a generated <c>...Result</c> type), read with
    /// <paramref name="read"/> (its generated reader).
    /// </summary>
    public static Task<T> StructAsync<T>(QixObject target, string method, ApiParams parameters, ApiReader<T> read,
                                         CancellationToken cancellationToken) where T : new() =>
        Calls.IssueDecoded(target, method, parameters.ToJson(), WholeOf<T>.Decode, null, read, cancellationToken);

    // The decoders, one delegate per type for the life of the process (no allocation per call).
    private static class Nothing
    {
        public static readonly ApiDecode<object?> Decode = static (_, _, _) => null;
    }

    private static class MemberOf<T>
    {
        public static readonly ApiDecode<T> Decode = static (raw, wire, read) => Member(raw, wire!, read!);
    }

    private static class WholeOf<T> where T : new()
    {
        public static readonly ApiDecode<T> Decode = static (raw, _, read) => Whole(raw, read!);
    }

    /// <summary>
    /// The object the method returns, as <typeparamref name="T"/> whatever its qType; null when the engine
    /// answered qReturn.qHandle null ("not found").
    /// </summary>
    public static async Task<T?> ObjectAsync<T>(QixObject target, string method, ApiParams parameters,
                                                Func<Session, NativeObject, QixObject> make,
                                                CancellationToken cancellationToken) where T : QixObject
    {
        try
        {
            QixResult result = await ObjectResultAsync(target, method, parameters, make, cancellationToken)
                .ConfigureAwait(false);
            return result.Object as T;
        }
        catch (QixException e) when (e.Status == QixStatus.NotFound)
        {
            return null;
        }
    }

    /// <summary>As <see cref="ObjectAsync{T}"/>, for the methods with out values besides the object.</summary>
    public static Task<QixResult> ObjectResultAsync(QixObject target, string method, ApiParams parameters,
                                                    Func<Session, NativeObject, QixObject> make,
                                                    CancellationToken cancellationToken) =>
        target.CallTypedAsync(method, parameters.ToJson(), make, cancellationToken);

    /// <summary>
    /// The member <paramref name="wire"/> of the result object, decoded straight from its UTF-8 (no document
    /// is built); the type's default when absent or when the result is no object.
    /// </summary>
    public static T Member<T>(QixResult result, string wire)
    {
        var reader = new Utf8JsonReader(result.RawUtf8);
        return Seek(ref reader, wire) ? JsonSerializer.Deserialize<T>(ref reader, ApiJson.Options)! : default!;
    }

    /// <summary>Moves <paramref name="reader"/> to the value of the result object's member <paramref name="wire"/>; false when there is none.</summary>
    private static bool Seek(ref Utf8JsonReader reader, string wire)
    {
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            bool found = reader.ValueTextEquals(wire);
            reader.Read();
            if (found) return true;
            reader.Skip();
        }
        return false;
    }

    /// <summary>As <see cref="Member{T}(QixResult, string)"/>, read with <paramref name="read"/> (see <see cref="ApiRead"/>).</summary>
    public static T Member<T>(QixResult result, string wire, ApiReader<T> read) => Member(result.RawUtf8, wire, read);

    /// <summary>As <see cref="Member{T}(QixResult, string, ApiReader{T})"/>, from the whole result's UTF-8.</summary>
    public static T Member<T>(ReadOnlySpan<byte> raw, string wire, ApiReader<T> read)
    {
        var reader = new Utf8JsonReader(raw);
        return Seek(ref reader, wire) ? ApiRead.Value(ref reader, read) : default!;
    }

    public static T Whole<T>(QixResult result) where T : new() => Whole<T>(result.RawUtf8.AsSpan());

    private static T Whole<T>(ReadOnlySpan<byte> raw) where T : new() =>
        JsonSerializer.Deserialize<T>(raw, ApiJson.Options) ?? new T();

    /// <summary>As <see cref="Whole{T}(QixResult)"/>, read with <paramref name="read"/> (see <see cref="ApiRead"/>).</summary>
    public static T Whole<T>(QixResult result, ApiReader<T> read) where T : new() => Whole(result.RawUtf8, read);

    /// <summary>As <see cref="Whole{T}(QixResult, ApiReader{T})"/>, from the whole result's UTF-8.</summary>
    public static T Whole<T>(ReadOnlySpan<byte> raw, ApiReader<T> read) where T : new()
    {
        var reader = new Utf8JsonReader(raw);
        try
        {
            if (reader.Read())
            {
                T value = read(ref reader);
                if (!reader.Read()) return value ?? new T();  // nothing after the value
            }
        }
        catch (Exception e) when (ApiRead.Declined(e))
        {
        }
        return Whole<T>(raw);
    }
}

/// <summary>Reads the generated enums: a symbol (any, known or not), or a number as its text.</summary>
internal static class ApiEnum
{
    public static string Read(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.String => reader.GetString() ?? "",
        JsonTokenType.Number => Encoding.UTF8.GetString(reader.HasValueSequence
                                                            ? System.Buffers.BuffersExtensions.ToArray(reader.ValueSequence)
                                                            : reader.ValueSpan.ToArray()),
        _ => throw new JsonException($"an enum symbol (a string) was expected, not {reader.TokenType}"),
    };
}
