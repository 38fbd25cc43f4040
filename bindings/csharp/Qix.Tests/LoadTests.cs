using System;
using System.Globalization;
using System.Linq;
using System.Threading.Tasks;
using Xunit;

namespace Qix.Tests;

/// <summary>10,000 calls from 8 tasks on one session: every answer matched to its call.</summary>
public sealed class LoadTests : IDisposable
{
    private readonly Simulator _sim = Simulator.Start();

    public void Dispose() => _sim.Dispose();

    [Fact]
    public async Task TenThousandCallsFromEightTasks()
    {
        const int Tasks = 8, PerTask = 1250, Window = 25;
        await using Session session = await Session.OpenAsync(_sim.AppUrl()).Within();
        await using QixObject doc = await session.OpenDocAsync("demo").Within();

        async Task<int> Worker(int worker)
        {
            int ok = 0;
            for (int start = 0; start < PerTask; start += Window)
            {
                int[] numbers = Enumerable.Range(start, Math.Min(Window, PerTask - start))
                                          .Select(i => worker * 100_000 + i).ToArray();
                QixResult[] results = await Task.WhenAll(
                    numbers.Select(n => doc.CallAsync("Evaluate", QixJson.Params($"{n}+1"))));
                for (int i = 0; i < numbers.Length; i++)
                {
                    Assert.Equal((numbers[i] + 1).ToString(CultureInfo.InvariantCulture), results[i].Value.GetString());
                    ok++;
                }
            }
            return ok;
        }

        int[] counts = await Task.WhenAll(Enumerable.Range(0, Tasks).Select(w => Task.Run(() => Worker(w))))
                                 .Within(TimeSpan.FromSeconds(120));
        Assert.Equal(Tasks * PerTask, counts.Sum());
        Assert.Equal(0, session.PendingCalls);
    }
}
