using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using System.Text;
using System.Text.Json;
using Qix.Api;
using Xunit;

namespace Qix.Tests;

/// <summary>
/// The typed API's result readers (Qix/Api/ApiRead.cs, Qix/Generated/Readers.g.cs) against System.Text.Json:
/// for every generated class, random values (strings with escapes and non-ASCII text, NaN and the
/// infinities, null and empty members, enums known and unknown, unknown members of open types) are written
/// with the serializer, then read both ways; the two must write the same JSON again, and the reader must have
/// read them itself (not given up). Texts the reader does not read (a member name in other letter case or
/// with escapes, a number where a string belongs, a fraction for an int) must make it give up, and the call
/// path must then answer what the serializer answers, value or exception.
/// </summary>
public sealed class ApiReadTests
{
    private static readonly Type[] s_types = typeof(ApiJson).Assembly.GetTypes()
        .Where(t => t.Namespace == "Qix.Api" && t.IsClass && t.IsPublic && !t.IsAbstract &&
                    typeof(ApiRead).GetMethod("Read" + t.Name, BindingFlags.Public | BindingFlags.Static) != null)
        .ToArray();

    private static MethodInfo ReaderOf(Type t) =>
        typeof(ApiRead).GetMethod("Read" + t.Name, BindingFlags.Public | BindingFlags.Static)!;

    // Reads json with read; ok is false when the reader gave up (or left tokens after the value).
    private static (object? Value, bool Ok) ReadWith<T>(byte[] json, ApiReader<T> read)
    {
        var reader = new Utf8JsonReader(json);
        try
        {
            reader.Read();
            T value = read(ref reader);
            return (value, !reader.Read());
        }
        catch (Exception e) when (ApiRead.Declined(e))
        {
            return (null, false);
        }
    }

    private static (object? Value, bool Ok) Fast(Type t, byte[] json)
    {
        Delegate read = Delegate.CreateDelegate(typeof(ApiReader<>).MakeGenericType(t), ReaderOf(t));
        MethodInfo m = typeof(ApiReadTests).GetMethod(nameof(ReadWith), BindingFlags.NonPublic | BindingFlags.Static)!
            .MakeGenericMethod(t);
        return ((object?, bool))m.Invoke(null, new object[] { json, read })!;
    }

    private static string Json(object? value, Type t) => JsonSerializer.Serialize(value, t, ApiJson.Options);

    private static readonly string[] s_texts =
    {
        "", "a", "qlik", "with \"quotes\" and \\ back", "tab\tnew\nline", "Ünïcödé ✓", "\u2028", "emoji 😀",
        "<html>&</html>", "/slash/",
    };

    private static object? RandomValue(Random rng, Type t, int depth)
    {
        Type? inner = Nullable.GetUnderlyingType(t);
        if (inner != null) return rng.Next(4) == 0 ? null : RandomValue(rng, inner, depth);
        if (t == typeof(string)) return rng.Next(5) == 0 ? null : s_texts[rng.Next(s_texts.Length)];
        if (t == typeof(bool)) return rng.Next(2) == 0;
        if (t == typeof(int)) return rng.Next(int.MinValue, int.MaxValue);
        if (t == typeof(long)) return ((long)rng.Next() << 32) ^ rng.Next();
        if (t == typeof(double))
        {
            double[] specials = { double.NaN, double.PositiveInfinity, double.NegativeInfinity, 0, -0.5, 1e300, 12345.678 };
            return rng.Next(3) == 0 ? specials[rng.Next(specials.Length)] : (rng.NextDouble() - 0.5) * 1e7;
        }
        if (t == typeof(JsonElement))
        {
            string[] raws = { "{\"a\":[1,2,{\"b\":null}]}", "\"text\"", "12.5", "[]", "true", "{\"x\":\"\\\"}\"}" };
            return JsonDocument.Parse(raws[rng.Next(raws.Length)]).RootElement.Clone();
        }
        if (t.IsValueType && t.Namespace == "Qix.Api")  // an enum: a known symbol, or one newer than the spec
        {
            PropertyInfo[] known = t.GetProperties(BindingFlags.Public | BindingFlags.Static)
                .Where(p => p.PropertyType == t).ToArray();
            if (known.Length > 0 && rng.Next(4) != 0) return known[rng.Next(known.Length)].GetValue(null);
            return Activator.CreateInstance(t, "NEWER_" + rng.Next(3));
        }
        if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(List<>))
        {
            if (depth <= 0 || rng.Next(4) == 0) return null;
            var list = (IList)Activator.CreateInstance(t)!;
            Type item = t.GetGenericArguments()[0];
            for (int i = rng.Next(4); i > 0; i--) list.Add(RandomValue(rng, item, depth - 1));
            return list;
        }
        if (t == typeof(Dictionary<string, JsonElement>))
        {
            if (rng.Next(2) == 0) return null;
            var extra = new Dictionary<string, JsonElement>();
            for (int i = rng.Next(1, 4); i > 0; i--)
                extra["zExtra" + i] = JsonDocument.Parse("{\"k\":[1,\"two\"]}").RootElement.Clone();
            return extra;
        }
        if (t.IsClass && t.Namespace == "Qix.Api" && t.GetConstructor(Type.EmptyTypes) != null)
        {
            if (depth <= 0 || rng.Next(5) == 0) return null;
            object value = Activator.CreateInstance(t)!;
            foreach (PropertyInfo p in t.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                if (!p.CanWrite || p.GetCustomAttribute<System.Text.Json.Serialization.JsonIgnoreAttribute>() != null)
                    continue;
                if (rng.Next(5) != 0) p.SetValue(value, RandomValue(rng, p.PropertyType, depth - 1));
            }
            return value;
        }
        return null;
    }

    [Fact]
    public void EveryGeneratedReaderReadsWhatTheSerializerReads()
    {
        Assert.True(s_types.Length > 250, $"only {s_types.Length} types with readers found");
        var rng = new Random(1);
        int read = 0;
        foreach (Type t in s_types)
        {
            for (int round = 0; round < 12; round++)
            {
                object? value = RandomValue(rng, t, 4) ?? Activator.CreateInstance(t);
                string text = Json(value, t);
                if (round % 2 == 1)  // blanks between tokens, as another writer may put them
                    text = JsonSerializer.Serialize(JsonDocument.Parse(text).RootElement,
                                                    new JsonSerializerOptions { WriteIndented = true });
                byte[] json = Encoding.UTF8.GetBytes(text);
                object? want = JsonSerializer.Deserialize(json, t, ApiJson.Options);
                (object? got, bool ok) = Fast(t, json);
                Assert.True(ok, $"{t.Name}: the reader gave up on {text}");
                Assert.Equal(Json(want, t), Json(got, t));
                read++;
            }
        }
        Assert.True(read > 3000, $"only {read} values read");
    }

    [Theory]
    [InlineData("{\"qComponent\\u0056ersion\":\"1.2\"}")]        // escaped name: the serializer matches it
    [InlineData("{\"qComponentVersion\":12}")]                   // number for a string: the serializer fails
    [InlineData("{\"qComponentVersion\":{}}")]
    public void WhatTheReaderGivesUpTheCallPathAnswersAsTheSerializer(string text)
    {
        byte[] json = Encoding.UTF8.GetBytes(text);
        Assert.False(Fast(typeof(NxEngineVersion), json).Ok);
        var reader = new Utf8JsonReader(json);
        reader.Read();
        object? want = null;
        Exception? wantError = null;
        try
        {
            want = JsonSerializer.Deserialize<NxEngineVersion>(json, ApiJson.Options);
        }
        catch (Exception e)
        {
            wantError = e;
        }
        try
        {
            NxEngineVersion got = ApiRead.Value(ref reader, ApiRead.ReadNxEngineVersion);
            Assert.Null(wantError);
            Assert.Equal(Json(want, typeof(NxEngineVersion)), Json(got, typeof(NxEngineVersion)));
        }
        catch (JsonException e)
        {
            Assert.NotNull(wantError);
            Assert.Equal(wantError!.GetType(), e.GetType());
        }
    }

    [Theory]
    [InlineData(typeof(NxPage), "{\"qTop\":1.5}")]
    [InlineData(typeof(NxPage), "{\"qTop\":4294967296}")]
    [InlineData(typeof(AlfaNumString), "{\"qIsNum\":\"true\"}")]
    [InlineData(typeof(NxCell), "{\"qState\":true}")]
    [InlineData(typeof(NxCell), "{\"qNum\":\"many\"}")]
    [InlineData(typeof(NxCell), "{\"qNum\":\"nan\"}")]
    [InlineData(typeof(NxCell), "{\"qNum\":\"\\u004EaN\"}")]
    [InlineData(typeof(GenericObjectProperties), "{\"a\":1,\"a\":2}")]
    public void TheReaderGivesUpOnWhatItDoesNotRead(Type t, string text) =>
        Assert.False(Fast(t, Encoding.UTF8.GetBytes(text)).Ok);

    [Theory]
    [InlineData(typeof(NxCell), "{\"qNum\":\"NaN\",\"qText\":\"-\",\"qElemNumber\":-2,\"qState\":\"L\",\"qIsNull\":true}")]
    [InlineData(typeof(NxCell), "{\"qNum\":\"-Infinity\",\"qState\":3}")]
    [InlineData(typeof(NxCell), "{\"qNum\":null,\"qText\":null,\"qElemNumber\":null,\"qState\":null}")]
    [InlineData(typeof(NxCell), "{\"qText\":\"caf\\u00e9 \\\"x\\\" \\ud83d\\ude00\",\"qUnknown\":{\"a\":[1,{\"b\":\"}]\"}]}}")]
    [InlineData(typeof(GenericObjectProperties), "{\"qInfo\":{\"qId\":\"a\",\"qType\":\"t\"},\"custom\":{\"deep\":[1,2]},\"z\":1}")]
    [InlineData(typeof(HyperCube), "{\"qDataPages\":[{\"qMatrix\":[[{\"qText\":\"a\"},null],[]],\"qArea\":{\"qWidth\":2}}]}")]
    [InlineData(typeof(NxEngineVersion), "{\"qComponentVersion\":\"a\",\"qComponentVersion\":\"b\"}")]
    [InlineData(typeof(NxEngineVersion), " { } ")]
    [InlineData(typeof(NxEngineVersion), "{\"qcomponentversion\":\"1.2\"}")]  // names are case-sensitive: skipped
    public void TheReaderReadsTheEnginesShapesAsTheSerializer(Type t, string text)
    {
        byte[] json = Encoding.UTF8.GetBytes(text);
        (object? got, bool ok) = Fast(t, json);
        Assert.True(ok, $"the reader gave up on {text}");
        Assert.Equal(Json(JsonSerializer.Deserialize(json, t, ApiJson.Options), t), Json(got, t));
    }
}
