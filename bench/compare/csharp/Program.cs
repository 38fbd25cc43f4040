// qix_bench_cs: libqix's C# binding as bench/compare drives every client (tiny calls only):
//
//   QixBenchCs URL tiny|tiny-pool CALLS WINDOW
//
// WINDOW async chains, each awaiting the typed session.Global.EngineVersionAsync() and issuing the next call
// when one completes (the await resumes on libqix's event thread: synchronous continuations, the default),
// until CALLS calls were made; a session opened with only a URL (Session.OpenAsync(url)), default options.
// tiny-pool: the same with SessionOptions.AllowSynchronousContinuations false (the await resumes on the thread
// pool), for what the thread pool's hand-off costs. An unmeasured warm-up comes first, as for the
// other managed runtimes (start-up, assembly loading and JIT compilation left out): CALLS/10 calls, repeated
// until QIX_BENCH_WARM_S seconds (1.5 unless set) went by and the JIT was quiet for half a second (.NET's tiered
// compilation reaches its optimised, profile-guided code later than a tenth of the calls; the runtime's
// defaults are kept, TieredPGO on, as users run it). Prints `ok=N failed=F wall_s=S cpu_s=C jit_s=J alloc_b=A
// gcs=G`, C being this process's CPU time (Process.TotalProcessorTime) over the timed part, J the JIT's compile
// time within it (JitInfo), A the bytes the managed heap allocated in it per call (GC.GetTotalAllocatedBytes)
// and G the collections of generation 0 in it. Exit status 0 when every call succeeded. On SIGQUIT (what
// compare.py sends a client that hangs) it prints where it is: its phase, its counters, and the session's state
// and pending calls, and goes on.
using System;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using Qix;
using Qix.Api;

internal static class Program
{
    // Where the client is and what it counted so far, for the SIGQUIT report.
    private static volatile string s_phase = "opening the session";
    private static long s_issued, s_ok, s_failed;
    private static Session? s_session;

    private static void Report(PosixSignalContext context)
    {
        context.Cancel = true;  // a report, not an end
        Session? session = s_session;
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"QixBenchCs: {s_phase}; issued={Interlocked.Read(ref s_issued)} ok={Interlocked.Read(ref s_ok)} " +
            $"failed={Interlocked.Read(ref s_failed)}; session {(session == null ? "none" : $"{session.State}, " +
            $"{session.PendingCalls} pending")}"));
    }

    private static async Task<int> Main(string[] args)
    {
        if (args.Length != 4 || (args[1] != "tiny" && args[1] != "tiny-pool"))
        {
            Console.Error.WriteLine("usage: QixBenchCs URL tiny|tiny-pool CALLS WINDOW");
            return 2;
        }
        long calls = long.Parse(args[2], CultureInfo.InvariantCulture);
        int window = int.Parse(args[3], CultureInfo.InvariantCulture);
        using PosixSignalRegistration quit = PosixSignalRegistration.Create(PosixSignal.SIGQUIT, Report);
        Session opened;
        if (args[1] == "tiny")
        {
            opened = await Session.OpenAsync(args[0]);
        }
        else
        {
            using var options = new SessionOptions(args[0]) { AllowSynchronousContinuations = false };
            opened = await Session.OpenAsync(options);
        }
        await using Session session = opened;
        s_session = session;
        Global global = session.Global;
        s_phase = "warming up";
        // Warm-up, not measured: CALLS/10 calls, repeated until QIX_BENCH_WARM_S seconds (1.5 unless set; 0 in
        // compare.py's smoke run) went by and the JIT compiled nothing for the last half of a second (at most
        // 20 s in all), so that tiered compilation (tier 0, instrumented tier, then the optimised tier with
        // dynamic PGO, compiled in the background after a delay) has reached the code the timed part runs; the
        // time alone, or one round without compiling, left it compiling in the timed part in some runs (jit_s
        // 0.04-0.17 s per 100,000-200,000 calls).
        string? warmEnv = Environment.GetEnvironmentVariable("QIX_BENCH_WARM_S");
        double warmFor = string.IsNullOrEmpty(warmEnv) ? 1.5 : double.Parse(warmEnv, CultureInfo.InvariantCulture);
        var warm = Stopwatch.StartNew();
        TimeSpan compiled = System.Runtime.JitInfo.GetCompilationTime();
        TimeSpan lastCompiling = TimeSpan.Zero;  // when a round last saw the JIT at work
        while (true)
        {
            await RunAsync(global, Math.Max(1, calls / 10), window);
            TimeSpan now = System.Runtime.JitInfo.GetCompilationTime();
            if (now != compiled) lastCompiling = warm.Elapsed;
            compiled = now;
            if (warmFor <= 0 || warm.Elapsed > TimeSpan.FromSeconds(20)) break;
            if (warm.Elapsed >= TimeSpan.FromSeconds(warmFor) &&
                warm.Elapsed - lastCompiling >= TimeSpan.FromSeconds(0.5)) break;
        }
        // The clock last before the timed part and first after it, so that reading the rest is not timed.
        long allocated0 = GC.GetTotalAllocatedBytes(precise: true);
        int gcs0 = GC.CollectionCount(0);
        TimeSpan jit0 = System.Runtime.JitInfo.GetCompilationTime();
        using Process self = Process.GetCurrentProcess();
        self.Refresh();
        TimeSpan cpu0 = self.TotalProcessorTime;
        s_phase = "timed part";
        var clock = Stopwatch.StartNew();
        (long ok, long failed) = await RunAsync(global, calls, window);
        double wall = clock.Elapsed.TotalSeconds;
        self.Refresh();
        double cpu = (self.TotalProcessorTime - cpu0).TotalSeconds;
        double jit = (System.Runtime.JitInfo.GetCompilationTime() - jit0).TotalSeconds;
        double allocPerCall = (GC.GetTotalAllocatedBytes(precise: true) - allocated0) / (double)calls;
        int gcs = GC.CollectionCount(0) - gcs0;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                                        $"ok={ok} failed={failed} wall_s={wall:F6} cpu_s={cpu:F6} jit_s={jit:F3} " +
                                        $"alloc_b={allocPerCall:F1} gcs={gcs}"));
        Console.Out.Flush();
        s_phase = "closing the session";
        return failed == 0 && ok == calls ? 0 : 1;
    }

    // Makes `calls` calls, `window` at a time; returns the calls that succeeded and failed.
    private static async Task<(long Ok, long Failed)> RunAsync(Global global, long calls, int window)
    {
        // The counters are the class's, so that the SIGQUIT report sees them.
        Interlocked.Exchange(ref s_issued, 0);
        Interlocked.Exchange(ref s_ok, 0);
        Interlocked.Exchange(ref s_failed, 0);
        async Task Chain()
        {
            while (Interlocked.Increment(ref s_issued) <= calls)
            {
                try
                {
                    NxEngineVersion version = await global.EngineVersionAsync();
                    if (version?.ComponentVersion != null) Interlocked.Increment(ref s_ok);
                    else Interlocked.Increment(ref s_failed);
                }
                catch (QixException e)
                {
                    if (Interlocked.Increment(ref s_failed) == 1) Console.Error.WriteLine($"EngineVersion: {e.Message}");
                }
            }
        }
        var chains = new Task[Math.Max(0, (int)Math.Min(window, calls))];
        for (int i = 0; i < chains.Length; i++) chains[i] = Chain();
        await Task.WhenAll(chains);
        return (Interlocked.Read(ref s_ok), Interlocked.Read(ref s_failed));
    }
}
