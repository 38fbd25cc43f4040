// qix_bench_java: libqix's Java binding as bench/compare drives every client (tiny calls only):
//   java -cp libqix-<version>.jar:. QixBenchJava URL tiny CALLS WINDOW
// WINDOW chains of global().engineVersionAsync() (the typed API), each issuing the next call from the
// completion of the one before (which runs on a libqix event thread), default options. Prints
// `ok=N failed=F wall_s=S cpu_s=C`, C being the JVM's process CPU time over the timed part, which follows an
// unmeasured warm-up of CALLS/10 calls (start-up, class loading and the first JIT compilations left out).
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

  public static void main(String[] args) throws Exception {
    if (args.length != 4 || !args[1].equals("tiny")) {
      System.err.println("usage: QixBenchJava URL tiny CALLS WINDOW");
      System.exit(2);
    }
    final long calls = Long.parseLong(args[2]);
    final int window = Integer.parseInt(args[3]);
    try (Session session = Session.open(SessionOptions.forUrl(args[0]))) {
      final Global global = session.global();
      run(global, Math.max(1, calls / 10), window); // warm-up, not measured: the JIT compiles the call path
      long cpu0 = processCpuNanos();
      long t0 = System.nanoTime();
      long[] counts = run(global, calls, window);
      double wall = (System.nanoTime() - t0) / 1e9;
      double cpu = (processCpuNanos() - cpu0) / 1e9;
      System.out.printf("ok=%d failed=%d wall_s=%.6f cpu_s=%.6f%n", counts[0], counts[1], wall, cpu);
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
