using System;
using System.Collections.Generic;
using Qix.Interop;

namespace Qix;

/// <summary>Which setter of <see cref="SessionOptions"/> an option takes (the C API's <c>qix_option_type</c>).</summary>
public enum OptionType
{
    /// <summary>Text: <see cref="SessionOptions.Set(string, string)"/>.</summary>
    String = (int)NativeQixOptionType.QIX_OPTION_STRING,
    /// <summary>An integer: <see cref="SessionOptions.Set(string, long)"/>.</summary>
    Int = (int)NativeQixOptionType.QIX_OPTION_INT,
    /// <summary>A boolean: <see cref="SessionOptions.Set(string, bool)"/>.</summary>
    Bool = (int)NativeQixOptionType.QIX_OPTION_BOOL,
}

/// <summary>
/// One session option as libqix describes it: the same table that validates <see cref="SessionOptions"/>'
/// setters and that docs/defaults.md prints, so a host can list the options with their bounds and defaults
/// (<see cref="SessionOptions.Describe"/>). Immutable.
/// </summary>
public sealed class OptionInfo
{
    internal OptionInfo(NativeOptionInfo n)
    {
        Name = n.name;
        Type = (OptionType)n.value_type;
        Min = n.min;
        Max = n.max;
        Values = n.values.Length == 0 ? Array.Empty<string>() : n.values.Split('|');
        Default = n.default_text;
        Doc = n.doc;
    }

    /// <summary>The option's name, e.g. <c>timeout.call_ms</c>.</summary>
    public string Name { get; }

    /// <summary>Which setter takes it.</summary>
    public OptionType Type { get; }

    /// <summary>Integers: the smallest accepted value (0 for booleans and strings).</summary>
    public long Min { get; }

    /// <summary>Integers: the largest accepted value (<see cref="long.MaxValue"/>: no upper bound).</summary>
    public long Max { get; }

    /// <summary>Strings with a fixed set of values: those values (e.g. none, attach, resume); else empty.</summary>
    public IReadOnlyList<string> Values { get; }

    /// <summary>The default as text: "30000", "true", "none", or "" when empty.</summary>
    public string Default { get; }

    /// <summary>What it does, in one line.</summary>
    public string Doc { get; }

    /// <inheritdoc/>
    public override string ToString() => $"{Name} ({Type}, default \"{Default}\")";

    internal static IReadOnlyList<OptionInfo> All()
    {
        int n = QixNative.options_count();
        var all = new List<OptionInfo>(n);
        for (int i = 0; i < n; i++)
        {
            using NativeOptionInfo native = QixNative.option_info(i);
            all.Add(new OptionInfo(native));
        }
        return all;
    }
}
