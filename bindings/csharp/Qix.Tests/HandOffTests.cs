using System;
using System.Threading;
using Qix.Internal;
using Xunit;

namespace Qix.Tests;

/// <summary>
/// The binding's hand-offs to the thread pool (<see cref="EventQueue"/>; Calls' drainers follow the same
/// protocol): a producer writes the queue and then reads the "scheduled" flag, the drainer clears the flag and
/// then reads the queue once more before it leaves. An item posted while the drainer leaves must be run by it
/// or by a drainer the post schedules, never by neither. The test catches a drainer that leaves without that
/// last look (checked: it fails within a few thousand rounds). The drainer's clear being a full fence
/// (Interlocked, not Volatile.Write, which lets the processor read the queue before the cleared flag is
/// visible) is the same rule at the scale of a store buffer, a window of nanoseconds no test hits reliably;
/// the comments in EventQueue.Drain and Calls.Drain say why it must stay.
/// </summary>
public sealed class HandOffTests
{
    [Fact]
    public void AnItemPostedWhileTheDrainerEndsIsNeverLeftBehind()
    {
        // Ping-pong: each item is posted as soon as the previous one ran, while the drainer that ran it is
        // leaving (looking at the queue, clearing its flag, looking again). The item spins a varying while after
        // it lets the poster go, so that the poster's next post lands at every point of the drainer's way out
        // over the rounds. A lost item shows as a wait that never ends.
        const int Rounds = 200_000;
        var queue = new EventQueue();
        using var ran = new ManualResetEventSlim(false, 1000);
        int count = 0;
        uint seed = 2463534242;
        Action item = () =>
        {
            count++;
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            ran.Set();
            Thread.SpinWait((int)(seed % 48));
        };
        for (int i = 0; i < Rounds; i++)
        {
            ran.Reset();
            queue.Post(item);
            Assert.True(ran.Wait(Scenario.Patience), $"item {i} of {Rounds} was never run");
        }
        Assert.Equal(Rounds, Volatile.Read(ref count));
    }
}
