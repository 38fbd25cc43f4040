using System;
using System.Threading;
using Qix.Internal;
using Xunit;

namespace Qix.Tests;

/// <summary>
/// The binding's hand-offs to the thread pool (<see cref="EventQueue"/>; Calls' drainers follow the same
/// protocol): a producer writes the queue and then reads the "scheduled" flag, the drainer clears the flag and
/// then reads the queue. The drainer's clear must be a full fence (Interlocked), not a release store
/// (Volatile.Write): with the latter the processor may read the queue before the cleared flag is visible, both
/// sides then miss the item, and a producer waiting for it (a call at window 1) waits forever.
/// </summary>
public sealed class HandOffTests
{
    [Fact]
    public void AnItemPostedWhileTheDrainerEndsIsNeverLeftBehind()
    {
        // Ping-pong: each item is posted as soon as the previous one ran, i.e. while the drainer that ran it is
        // leaving (clearing its flag and looking at the queue one last time): the moment the race needs, each
        // round. A lost item shows as a wait that never ends.
        const int Rounds = 200_000;
        var queue = new EventQueue();
        using var ran = new ManualResetEventSlim(false, 1000);
        int count = 0;
        Action item = () =>
        {
            count++;
            ran.Set();
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
