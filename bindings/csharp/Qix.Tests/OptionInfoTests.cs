using System;
using System.Linq;
using Xunit;

namespace Qix.Tests;

/// <summary>SessionOptions.Describe: libqix's one options table, as C# sees it.</summary>
public sealed class OptionInfoTests
{
    [Fact]
    public void DescribeListsEveryOptionOnceWithItsTypeBoundsAndDefault()
    {
        var all = SessionOptions.Describe();
        Assert.True(all.Count >= 30, $"only {all.Count} options");
        Assert.Equal(all.Count, all.Select(o => o.Name).Distinct().Count());
        Assert.All(all, o => Assert.False(string.IsNullOrWhiteSpace(o.Doc), o.Name));

        OptionInfo call = all.Single(o => o.Name == "timeout.call_ms");
        Assert.Equal(OptionType.Int, call.Type);
        Assert.Equal(0, call.Min);
        Assert.Equal(long.MaxValue, call.Max);
        Assert.Equal("0", call.Default); // no per-call timeout unless asked
        Assert.True(long.Parse(all.Single(o => o.Name == "timeout.connect_ms").Default) > 0);

        OptionInfo reconnect = all.Single(o => o.Name == "reconnect");
        Assert.Equal(OptionType.String, reconnect.Type);
        Assert.Equal(new[] { "none", "attach", "resume" }, reconnect.Values);
        Assert.Equal("none", reconnect.Default);

        Assert.Equal(OptionType.Bool, all.Single(o => o.Name == "delta").Type);
    }

    [Fact]
    public void EveryDescribedOptionIsAcceptedWithItsDefault()
    {
        // The description and the setters' validation are one table: each default set back is accepted.
        using var options = new SessionOptions();
        foreach (OptionInfo o in SessionOptions.Describe())
        {
            switch (o.Type)
            {
                case OptionType.Int: options.Set(o.Name, long.Parse(o.Default)); break;
                case OptionType.Bool: options.Set(o.Name, o.Default == "true"); break;
                default: if (o.Default.Length > 0) options.Set(o.Name, o.Default); break;
            }
        }
        var e = Assert.Throws<QixException>(() => options.Set("no.such.option", 1L));
        Assert.Equal(QixStatus.InvalidArgument, e.Status);
    }
}
