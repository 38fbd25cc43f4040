using System;
using System.Threading;

namespace Qix.Internal;

/// <summary>
/// Keeps a synchronous continuation (<see cref="SessionOptions.AllowSynchronousContinuations"/>, the default)
/// from holding up its session for good. A continuation runs on libqix's event thread, which delivers the
/// session's answers one after another; one that waits (<c>.Result</c> or <c>.Wait()</c> on another call's
/// task, a lock, a semaphore another continuation releases) would wait for ever for an answer only that thread
/// can deliver. Each event thread that runs continuations has a <see cref="Slot"/> whose sequence number is
/// odd while one runs; a watchdog thread looks at the slots every <see cref="PeriodMs"/> and, for a
/// continuation it finds running at two looks in a row (held up for one to two periods), hands the session's
/// later events to another event thread (qix_session_hand_over_events from outside: the answers not delivered
/// yet, those of the same socket read included, and the calls the continuation issued and libqix still
/// holds, go on without it). The continuation itself goes on where it is.
///
/// Costs on the hot path: two interlocked increments per continuation and a read of <see cref="s_armed"/>.
/// The watchdog thread ("qix-watchdog", a background thread started with the first continuation) sleeps on an
/// event while no continuation has run for a period: an idle process has no timer waking it.
/// Threading: <see cref="Enter"/> and <see cref="Exit"/> on the event thread running the continuation; the
/// rest on the watchdog thread.
/// </summary>
internal static class ContinuationWatchdog
{
    /// <summary>How often the watchdog looks, in milliseconds: a held continuation is handed over within two.</summary>
    internal const int PeriodMs = 10;

    /// <summary>One event thread's continuation, as the watchdog sees it.</summary>
    internal sealed class Slot
    {
        // Odd while a continuation runs. Written by the slot's thread only (interlocked on entry, so that the
        // read of s_armed after it cannot move before it), read by the watchdog.
        internal long Seq;
        // The session whose continuation runs (null outside one).
        internal Session? Session;
        // The watchdog's: Seq at its last look, and the Seq it last handed over.
        internal long Seen = -1, Handed = -1;
        // Continuations run inside one another on this thread (outermost counts).
        internal int Depth;
        // The event thread; its slot is dropped once it has ended (a disposed Context's threads).
        internal readonly Thread Thread = Thread.CurrentThread;
    }

    [ThreadStatic] private static Slot? t_slot;
    // Every slot, copied on registration (rare: once per event thread).
    private static Slot[] s_slots = Array.Empty<Slot>();
    private static readonly object s_gate = new();
    // 1 while the watchdog looks every period; 0 while it sleeps until a continuation runs. Changed under s_gate.
    private static int s_armed;
    private static readonly ManualResetEventSlim s_wake = new(false);
    private static Thread? s_thread;
    private static long s_handOvers;

    /// <summary>Hand-overs the watchdog made since the process started (for tests and diagnostics).</summary>
    internal static long HandOvers => Interlocked.Read(ref s_handOvers);

    /// <summary>Whether the watchdog looks at <paramref name="thread"/> (for tests).</summary>
    internal static bool Watches(Thread thread) => Array.Exists(Volatile.Read(ref s_slots), s => s.Thread == thread);

    /// <summary>
    /// Drops the slots of event threads that have ended (the watchdog does it when a look finds one), so that
    /// a process that makes and disposes contexts does not keep a slot per thread it ever had.
    /// </summary>
    internal static void Prune()
    {
        lock (s_gate)
        {
            Slot[] slots = s_slots;
            int alive = 0;
            foreach (Slot slot in slots)
                if (slot.Thread.IsAlive) alive++;
            if (alive == slots.Length) return;
            var kept = new Slot[alive];
            int i = 0;
            foreach (Slot slot in slots)
                if (slot.Thread.IsAlive) kept[i++] = slot;
            Volatile.Write(ref s_slots, kept);
        }
    }

    /// <summary>Marks the start of a continuation of <paramref name="session"/> on the calling (event) thread.</summary>
    internal static Slot Enter(Session session)
    {
        Slot slot = t_slot ?? Register();
        if (slot.Depth++ > 0) return slot;
        slot.Session = session;
        Interlocked.Increment(ref slot.Seq);  // odd; a full fence before s_armed is read
        if (Volatile.Read(ref s_armed) == 0) Arm();
        return slot;
    }

    /// <summary>Marks the end of the continuation <see cref="Enter"/> started.</summary>
    internal static void Exit(Slot slot)
    {
        if (--slot.Depth > 0) return;
        Volatile.Write(ref slot.Seq, slot.Seq + 1);  // even
        slot.Session = null;
    }

    private static Slot Register()
    {
        var slot = new Slot();
        lock (s_gate)
        {
            var slots = new Slot[s_slots.Length + 1];
            Array.Copy(s_slots, slots, s_slots.Length);
            slots[slots.Length - 1] = slot;
            Volatile.Write(ref s_slots, slots);
        }
        t_slot = slot;
        return slot;
    }

    private static void Arm()
    {
        lock (s_gate)
        {
            if (s_armed == 1) return;
            Volatile.Write(ref s_armed, 1);
            if (s_thread == null)
            {
                s_thread = new Thread(Run) { IsBackground = true, Name = "qix-watchdog" };
                s_thread.Start();
            }
            s_wake.Set();
        }
    }

    private static void Run()
    {
        for (;;)
        {
            s_wake.Wait();
            Thread.Sleep(PeriodMs);
            if (Look()) continue;
            // Nothing ran since the last look: sleep until a continuation runs, unless one started meanwhile.
            // Dekker-style with Enter: s_armed is cleared, then the slots read again; Enter makes its slot odd,
            // then reads s_armed. Either Enter sees 0 (and arms again, after this) or this sees it odd.
            lock (s_gate)
            {
                Interlocked.Exchange(ref s_armed, 0);
                if (AnyRunning())
                {
                    Volatile.Write(ref s_armed, 1);
                    continue;
                }
                s_wake.Reset();
            }
        }
    }

    private static bool AnyRunning()
    {
        foreach (Slot slot in Volatile.Read(ref s_slots))
            if ((Volatile.Read(ref slot.Seq) & 1) != 0) return true;
        return false;
    }

    // One look: hands over the sessions of continuations running since the last look. True when any
    // continuation ran or runs (then the watchdog stays armed).
    private static bool Look()
    {
        bool busy = false, ended = false;
        foreach (Slot slot in Volatile.Read(ref s_slots))
        {
            if (!slot.Thread.IsAlive) ended = true;
            long seq = Volatile.Read(ref slot.Seq);
            if (seq != slot.Seen) busy = true;
            if ((seq & 1) != 0)
            {
                busy = true;
                if (seq == slot.Seen && seq != slot.Handed)
                {
                    slot.Handed = seq;  // once per continuation
                    Session? session = Volatile.Read(ref slot.Session);
                    // Still the same continuation (the slot's session is read after its Seq): hand its session over.
                    if (session != null && Volatile.Read(ref slot.Seq) == seq)
                    {
                        // Counted before it is made: what it frees (an answer the continuation waits for) can
                        // be observed before HandOverEvents returns; taken back when there was nothing to hand over.
                        Interlocked.Increment(ref s_handOvers);
                        bool handed = false;
                        try
                        {
                            handed = session.HandOverEvents();
                        }
                        catch (Exception e)
                        {
                            QixDiagnostics.ReportHandlerException(null, "continuation watchdog", e);
                        }
                        if (!handed) Interlocked.Decrement(ref s_handOvers);
                    }
                }
            }
            slot.Seen = seq;
        }
        if (ended) Prune();
        return busy;
    }
}
