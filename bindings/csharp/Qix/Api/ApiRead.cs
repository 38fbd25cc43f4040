using System;
using System.Collections.Generic;
using System.Text.Json;

namespace Qix.Api;

/// <summary>
/// Reads one value from <paramref name="reader"/>, positioned on the value's first token, and leaves it on the
/// value's last token.
/// </summary>
internal delegate T ApiReader<T>(ref Utf8JsonReader reader);

/// <summary>
/// The typed API's result readers: a reader per generated type (Readers.g.cs) reads it straight from the
/// result's UTF-8 with a <see cref="Utf8JsonReader"/>, without System.Text.Json's serializer (its converters,
/// read stack and look-ahead). They read what the serializer reads with <see cref="ApiJson.Options"/>, the
/// same way, for the shapes the engine sends; anything else (a member name with escapes, a string where a
/// number belongs, a number that is no <c>int</c>, a null where a value type belongs ...) makes a reader give
/// up (<see cref="Unknown"/>), and <see cref="ApiCall"/> then decodes the whole value with the serializer,
/// whose value (or exception) is the answer. So a result decodes to the same values either way; only how fast
/// differs. Tested type by type against the serializer (Qix.Tests, ApiReadTests).
/// </summary>
internal static partial class ApiRead
{
    /// <summary>A reader met what it does not read: the serializer decides (never reaches users).</summary>
    internal sealed class Unknown : Exception
    {
        public Unknown() : base("the typed API's reader gives this value to System.Text.Json") { }
    }

    private static readonly Unknown s_unknown = new();

    /// <summary>Gives the value up to the serializer.</summary>
    internal static Exception GiveUp() => s_unknown;

    /// <summary>Whether an exception of a reader means "let the serializer decide".</summary>
    internal static bool Declined(Exception e) =>
        e is Unknown or JsonException or InvalidOperationException or FormatException or ArgumentException;

    /// <summary>The current token, a property name, without escapes (else the reader gives up).</summary>
    internal static ReadOnlySpan<byte> Name(ref Utf8JsonReader r)
    {
        if (r.TokenType != JsonTokenType.PropertyName || r.ValueIsEscaped || r.HasValueSequence) throw GiveUp();
        return r.ValueSpan;
    }

    public static string? String(ref Utf8JsonReader r) => r.TokenType switch
    {
        JsonTokenType.String => r.GetString(),
        JsonTokenType.Null => null,
        _ => throw GiveUp(),
    };

    public static string StringItem(ref Utf8JsonReader r) => String(ref r)!;

    public static bool? Bool(ref Utf8JsonReader r) => r.TokenType switch
    {
        JsonTokenType.True => true,
        JsonTokenType.False => false,
        JsonTokenType.Null => null,
        _ => throw GiveUp(),
    };

    public static bool BoolItem(ref Utf8JsonReader r) => Bool(ref r) ?? throw GiveUp();

    public static int? Int(ref Utf8JsonReader r)
    {
        if (r.TokenType == JsonTokenType.Null) return null;
        if (r.TokenType == JsonTokenType.Number && r.TryGetInt32(out int v)) return v;
        throw GiveUp();
    }

    public static int IntItem(ref Utf8JsonReader r) => Int(ref r) ?? throw GiveUp();

    public static long? Long(ref Utf8JsonReader r)
    {
        if (r.TokenType == JsonTokenType.Null) return null;
        if (r.TokenType == JsonTokenType.Number && r.TryGetInt64(out long v)) return v;
        throw GiveUp();
    }

    public static long LongItem(ref Utf8JsonReader r) => Long(ref r) ?? throw GiveUp();

    /// <summary>A number, or "NaN", "Infinity", "-Infinity" (AllowNamedFloatingPointLiterals).</summary>
    public static double? Double(ref Utf8JsonReader r)
    {
        switch (r.TokenType)
        {
            case JsonTokenType.Null:
                return null;
            case JsonTokenType.Number:
                if (r.TryGetDouble(out double v)) return v;
                break;
            case JsonTokenType.String when !r.ValueIsEscaped && !r.HasValueSequence:
                ReadOnlySpan<byte> s = r.ValueSpan;
                if (s.SequenceEqual("NaN"u8)) return double.NaN;
                if (s.SequenceEqual("Infinity"u8)) return double.PositiveInfinity;
                if (s.SequenceEqual("-Infinity"u8)) return double.NegativeInfinity;
                break;
        }
        throw GiveUp();
    }

    public static double DoubleItem(ref Utf8JsonReader r) => Double(ref r) ?? throw GiveUp();

    public static JsonElement? ElementOrNull(ref Utf8JsonReader r) =>
        r.TokenType == JsonTokenType.Null ? null : JsonElement.ParseValue(ref r);

    public static JsonElement Element(ref Utf8JsonReader r) => JsonElement.ParseValue(ref r);

    /// <summary>An array (null: null), each item with <paramref name="item"/>.</summary>
    public static List<T> List<T>(ref Utf8JsonReader r, ApiReader<T> item)
    {
        if (r.TokenType == JsonTokenType.Null) return null!;
        if (r.TokenType != JsonTokenType.StartArray) throw GiveUp();
        var list = new List<T>();
        while (r.Read())
        {
            if (r.TokenType == JsonTokenType.EndArray) return list;
            list.Add(item(ref r));
        }
        throw GiveUp();
    }

    /// <summary>A member of an open type that no property names, kept in its extension data.</summary>
    public static Dictionary<string, JsonElement> Extra(Dictionary<string, JsonElement>? extra,
                                                        scoped ReadOnlySpan<byte> name, ref Utf8JsonReader r)
    {
        extra ??= new Dictionary<string, JsonElement>();
#if NETSTANDARD2_0
        string key = System.Text.Encoding.UTF8.GetString(name.ToArray());
#else
        string key = System.Text.Encoding.UTF8.GetString(name);
#endif
        if (extra.ContainsKey(key)) throw GiveUp();  // a member sent twice: the serializer's rules
        extra[key] = JsonElement.ParseValue(ref r);
        return extra;
    }

    /// <summary>
    /// Reads a whole value with <paramref name="read"/> from <paramref name="reader"/> (on its first token);
    /// when the reader gives up, with the serializer from the same place.
    /// </summary>
    public static T Value<T>(ref Utf8JsonReader reader, ApiReader<T> read)
    {
        Utf8JsonReader start = reader;
        try
        {
            return read(ref reader);
        }
        catch (Exception e) when (Declined(e))
        {
            reader = start;
            return JsonSerializer.Deserialize<T>(ref reader, ApiJson.Options)!;
        }
    }
}
