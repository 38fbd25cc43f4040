// qix_bench_java: libqix's Java binding as bench/compare drives every client (tiny calls only):
//   java -cp libqix-<version>.jar:. QixBenchJava URL tiny CALLS WINDOW
// WINDOW chains of global().engineVersionAsync() (the typed API), each issuing the next call from the
// completion of the one before (which runs on a libqix event thread), default options. Prints
// `ok=N failed=F wall_s=S cpu_s=C jit_s=J faults=P gcs=G gc_s=T`, C being the JVM's process CPU time over the
// timed part, which follows an unmeasured warm-up (CALLS/10 calls, repeated until QIX_BENCH_WARM_S seconds, 1.5
// unless set, went by, the JIT was quiet for half a second and the heap's young generation had been used up
// once at its present size: start-up, class loading, the JIT's compilations and the kernel's first touch of
// the heap left out), J the JIT's compile time within it, P the process's minor page faults within it (-1
// where /proc/self/stat cannot be read), G the collections within it and T their time; then alloc_b=A, the
// bytes the heap allocated in it per call (-1 where the JVM does not count them).
import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
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

  /** The process's minor page faults so far (field 10 of /proc/self/stat), or -1. */
  private static long minorFaults() {
    try {
      String stat = new String(Files.readAllBytes(Paths.get("/proc/self/stat")), StandardCharsets.US_ASCII);
      String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return Long.parseLong(fields[7]); // fields[0] is the state, the stat's third field
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** Collections so far, of every collector. */
  private static long collections() {
    long n = 0;
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      n += Math.max(0, gc.getCollectionCount());
    }
    return n;
  }

  /**
   * Bytes the live threads have allocated on the heap so far (HotSpot's per-thread counters; libqix's event
   * threads are attached, so theirs count), or -1 where the JVM does not count them.
   */
  private static long allocatedBytes() {
    java.lang.management.ThreadMXBean bean = ManagementFactory.getThreadMXBean();
    if (!(bean instanceof com.sun.management.ThreadMXBean)) {
      return -1;
    }
    com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) bean;
    if (!threads.isThreadAllocatedMemorySupported() || !threads.isThreadAllocatedMemoryEnabled()) {
      return -1;
    }
    long n = 0;
    for (long b : threads.getThreadAllocatedBytes(threads.getAllThreadIds())) {
      n += Math.max(0, b); // -1: the thread ended meanwhile
    }
    return n;
  }

  /** The collectors' accumulated elapsed time so far, milliseconds. */
  private static long collectionMillis() {
    long ms = 0;
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      ms += Math.max(0, gc.getCollectionTime());
    }
    return ms;
  }

  /** The young generation's allocation space now (the eden pools' committed bytes), or -1 when none. */
  private static long edenBytes() {
    long n = -1;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getName().contains("Eden")) {
        n = Math.max(n, 0) + pool.getUsage().getCommitted();
      }
    }
    return n;
  }

  /**
   * What the timed part reads before and after it. The warm-up reads it every round too: code that first runs
   * right before the timed part (loading classes, reading /proc) can invalidate what the JIT compiled of
   * libqix's call path (a class loaded changes the class hierarchy its inlining relied on) and have it
   * recompiled, on the clock (read only around the timed part, 2 of 18 runs at window 64 had the JIT at work
   * for 0.13 s in a timed part of 0.17 to 0.30 s of CPU; read every round too, 0.003 s at most in 22 runs).
   */
  private static final class Meters {
    long wallNanos;
    long cpuNanos;
    long jitMillis;
    long faults;
    long gcs;
    long gcMillis;
    long allocated;

    /** Read at the start of a timed part: the clocks last, so that reading the others is not timed. */
    static Meters before(java.lang.management.CompilationMXBean jit) {
      Meters m = new Meters();
      m.readOthers(jit);
      m.cpuNanos = processCpuNanos();
      m.wallNanos = System.nanoTime();
      return m;
    }

    /** Read at the end of a timed part: the clocks first. */
    static Meters after(java.lang.management.CompilationMXBean jit) {
      Meters m = new Meters();
      m.wallNanos = System.nanoTime();
      m.cpuNanos = processCpuNanos();
      m.readOthers(jit);
      return m;
    }

    private void readOthers(java.lang.management.CompilationMXBean jit) {
      jitMillis = jit.getTotalCompilationTime();
      faults = minorFaults();
      gcs = collections();
      gcMillis = collectionMillis();
      allocated = allocatedBytes();
    }
  }

  private static volatile Object sink; // keeps settleHeap's allocations from being optimised away

  /**
   * Fills the young generation with garbage until a collection has run at its present size (at most 16
   * collections, and 10 s: a collector that never collects leaves it as it is). The collector sizes the eden up over its first collections (G1 on the 2-core, 24 GiB host
   * of docs/performance.md: 20, 16, 40, then 236 MB, three collections and about 1.5 s into a window-64
   * warm-up; at window 1 the calls allocate too slowly to get there in 20 s), and until the eden has been
   * filled once at its final size every allocation lands on pages the process never touched: a page fault
   * and a page of zeroing in the kernel each. Left in, the timed part of 300,000 calls at window 64 took
   * 26,000 such faults (about 100 MB: all it allocated) and its CPU time came out 1.5 to 2.5 times the
   * steady state's. A long-running program pays them once, as it compiles its code once. Objects of 32 KiB
   * (below G1's humongous size for any region size) go to the eden as the calls' own allocations do.
   */
  private static void settleHeap() {
    long eden = edenBytes();
    if (eden < 0) {
      return; // a collector without an eden (ZGC, Shenandoah): nothing to settle
    }
    final long deadline = System.nanoTime() + 10_000_000_000L;
    for (int i = 0; i < 16; i++) {
      final long before = collections();
      while (collections() == before) {
        if (System.nanoTime() > deadline) {
          return;
        }
        for (int j = 0; j < 32; j++) {
          sink = new byte[32 << 10];
        }
      }
      final long now = edenBytes();
      if (now == eden && i > 0) {
        return; // a whole collection cycle ran at this size: its pages are all mapped
      }
      eden = now;
    }
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
      // Then the heap is brought to its steady state (settleHeap): a long-running program has filled its
      // young generation many times over, so its allocations land on pages the kernel has mapped already.
      final java.lang.management.CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
      final double warmFor = warmSeconds();
      final long warmStart = System.nanoTime();
      long compiled = jit.getTotalCompilationTime();
      double lastCompiling = 0; // when a round last saw the JIT at work, seconds into the warm-up
      // QIX_BENCH_JAVA_SETTLE=0 leaves the heap as the calls left it (to measure what settling it changes).
      boolean settled = warmFor <= 0 || "0".equals(System.getenv("QIX_BENCH_JAVA_SETTLE"));
      while (true) {
        run(global, Math.max(1, calls / 10), window);
        sink = Meters.before(jit); // the timed part's own meters, run (and compiled) before it as well
        sink = Meters.after(jit);
        final double warmed = (System.nanoTime() - warmStart) / 1e9;
        if (!settled && warmed >= warmFor) {
          settleHeap(); // once, then the rounds go on until the JIT has been quiet for half a second
          settled = true;
        }
        final long now = jit.getTotalCompilationTime();
        if (now != compiled) lastCompiling = (System.nanoTime() - warmStart) / 1e9;
        compiled = now;
        if (warmFor <= 0 || warmed > 20) break;
        if (settled && warmed >= warmFor && warmed - lastCompiling >= 0.5) break;
      }
      final Meters before = Meters.before(jit);
      long[] counts = run(global, calls, window);
      final Meters after = Meters.after(jit);
      final long faults = before.faults < 0 || after.faults < 0 ? -1 : after.faults - before.faults;
      final double allocPerCall =
          before.allocated < 0 || after.allocated < 0 ? -1 : (after.allocated - before.allocated) / (double) calls;
      System.out.printf("ok=%d failed=%d wall_s=%.6f cpu_s=%.6f jit_s=%.3f faults=%d gcs=%d gc_s=%.3f"
          + " alloc_b=%.1f%n", counts[0], counts[1], (after.wallNanos - before.wallNanos) / 1e9,
          (after.cpuNanos - before.cpuNanos) / 1e9, (after.jitMillis - before.jitMillis) / 1e3, faults,
          after.gcs - before.gcs, (after.gcMillis - before.gcMillis) / 1e3, allocPerCall);
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
