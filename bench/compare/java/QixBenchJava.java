// qix_bench_java: libqix's Java binding as bench/compare drives every client (tiny calls only):
//   java -cp libqix-<version>.jar:. QixBenchJava URL tiny CALLS WINDOW
// WINDOW chains of global().engineVersionAsync() (the typed API), each issuing the next call from the
// completion of the one before (which runs on a libqix event thread), default options. Prints
// `ok=N failed=F wall_s=S cpu_s=C jit_s=J`, C being the JVM's process CPU time over the timed part, which
// follows an unmeasured warm-up (CALLS/10 calls, repeated until QIX_BENCH_WARM_S seconds, 1.5 unless set, went
// by and the JIT was quiet for half a second: start-up, class loading and the JIT's compilations left out), J
// the JIT's compile time within it.
import java.lang.management.ManagementFactory;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.libqix.Session;
import org.libqix.SessionOptions;
import org.libqix.api.Global;

public final class QixBenchJava {
  private static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  private static double warmSeconds() {
    String s = System.getenv("QIX_BENCH_WARM_S");
    return s == null || s.isEmpty() ? 1.5 : Double.parseDouble(s);
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 4 || !args[1].equals("tiny")) {
      System.err.println("usage: QixBenchJava URL tiny CALLS WINDOW");
      System.exit(2);
    }
    final long calls = Long.parseLong(args[2]);
    final int window = Integer.parseInt(args[3]);
    try (Session session = Session.open(SessionOptions.forUrl(args[0]))) {
      final Global global = session.global();
      // Warm-up, not measured: CALLS/10 calls, repeated until QIX_BENCH_WARM_S seconds (1.5 unless set)
      // went by and the JIT compiled nothing for the last half of a second (at most 20 s in all), as the
      // .NET client does, so that the JIT's compilers (C1, then C2 with the profile C1 gathered) are done
      // with the call path before the timed part (a tenth of the calls alone left C2 compiling in it: a
      // third of the timed CPU at 100,000 calls).
      final java.lang.management.CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
      final double warmFor = warmSeconds();
      final long warmStart = System.nanoTime();
      long compiled = jit.getTotalCompilationTime();
      double lastCompiling = 0; // when a round last saw the JIT at work, seconds into the warm-up
      while (true) {
        run(global, Math.max(1, calls / 10), window);
        final double warmed = (System.nanoTime() - warmStart) / 1e9;
        final long now = jit.getTotalCompilationTime();
        if (now != compiled) lastCompiling = warmed;
        compiled = now;
        if (warmFor <= 0 || warmed > 20) break;
        if (warmed >= warmFor && warmed - lastCompiling >= 0.5) break;
      }
      final long jit0 = jit.getTotalCompilationTime();
      long cpu0 = processCpuNanos();
      long t0 = System.nanoTime();
      long[] counts = run(global, calls, window);
      double wall = (System.nanoTime() - t0) / 1e9;
      double cpu = (processCpuNanos() - cpu0) / 1e9;
      final long jitMs = jit.getTotalCompilationTime() - jit0;
      System.out.printf("ok=%d failed=%d wall_s=%.6f cpu_s=%.6f jit_s=%.3f%n", counts[0], counts[1], wall, cpu,
          jitMs / 1e3);
      System.out.flush();
      System.exit(counts[1] == 0 && counts[0] == calls ? 0 : 1);
    }
  }

  // Makes `calls` calls, `window` at a time; returns {ok, failed}.
  private static long[] run(Global global, long calls, int window) throws InterruptedException {
    final AtomicLong issued = new AtomicLong();
    final AtomicLong ok = new AtomicLong();
    final AtomicLong failed = new AtomicLong();
    final AtomicLong done = new AtomicLong();
    final CountDownLatch finished = new CountDownLatch(1);
    final Runnable[] next = new Runnable[1];
    next[0] = () -> {
      if (issued.incrementAndGet() > calls) return;
      global.engineVersionAsync().whenComplete((version, error) -> {
        if (error == null && version != null) ok.incrementAndGet(); else failed.incrementAndGet();
        if (done.incrementAndGet() == calls) finished.countDown(); else next[0].run();
      });
    };
    for (int i = 0; i < window && i < calls; i++) next[0].run();
    finished.await();
    return new long[] {ok.get(), failed.get()};
  }
}
