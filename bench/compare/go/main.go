// qix_bench_go: libqix's Go binding as bench/compare drives every client (tiny calls only):
//
//	qix_bench_go URL KIND CALLS WINDOW
//
// KIND tiny: WINDOW chains of typed Global.EngineVersionAsync calls, each issuing the next call from the
// completion of the one before (which runs on libqix's I/O thread), as the Java and C# clients do, until
// CALLS calls were made; default options. KIND tiny-goroutines: WINDOW goroutines, each making typed
// Global.EngineVersion calls one after another (the blocking form, Go's usual way of keeping WINDOW calls
// in flight). An unmeasured warm-up comes first, as for the other managed runtimes (CALLS/10 calls,
// repeated until QIX_BENCH_WARM_S seconds went by). Prints `ok=N failed=F wall_s=S cpu_s=C alloc_b=A gcs=G`, C
// being this process's CPU time (getrusage) over the timed part, A the bytes Go's heap allocated in it per call
// and G its collections.
package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/libqix/libqix/bindings/go/qix"
)

func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}

// chains makes `calls` calls in `window` chains of asynchronous calls; it returns the calls that succeeded
// and failed.
func chains(g *qix.Global, calls int64, window int) (int64, int64) {
	var issued, ok, failed, finished int64
	done := make(chan struct{})
	var next func()
	complete := func(v *qix.NxEngineVersion, err error) {
		if err == nil && v != nil {
			atomic.AddInt64(&ok, 1)
		} else if atomic.AddInt64(&failed, 1) == 1 {
			fmt.Fprintln(os.Stderr, "EngineVersionAsync:", err)
		}
		if atomic.AddInt64(&finished, 1) == calls {
			close(done)
			return
		}
		next()
	}
	next = func() {
		if atomic.AddInt64(&issued, 1) > calls {
			return
		}
		if err := g.EngineVersionAsync(complete); err != nil {
			complete(nil, err) // not made: counted as failed, and the chain goes on
		}
	}
	for i := 0; i < window; i++ {
		next()
	}
	<-done
	return ok, failed
}

// goroutines makes `calls` calls with `window` goroutines; it returns the calls that succeeded and failed.
func goroutines(ctx context.Context, g *qix.Global, calls int64, window int) (int64, int64) {
	var issued, ok, failed int64
	var wg sync.WaitGroup
	for i := 0; i < window; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for atomic.AddInt64(&issued, 1) <= calls {
				if v, err := g.EngineVersion(ctx); err == nil && v != nil {
					atomic.AddInt64(&ok, 1)
				} else {
					atomic.AddInt64(&failed, 1)
				}
			}
		}()
	}
	wg.Wait()
	return ok, failed
}

func main() {
	if len(os.Args) != 5 || (os.Args[2] != "tiny" && os.Args[2] != "tiny-goroutines") {
		fmt.Fprintln(os.Stderr, "usage: qix_bench_go URL tiny|tiny-goroutines CALLS WINDOW")
		os.Exit(2)
	}
	calls, _ := strconv.ParseInt(os.Args[3], 10, 64)
	window, _ := strconv.Atoi(os.Args[4])
	ctx := context.Background()
	s, err := qix.Dial(ctx, os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "dial:", err)
		os.Exit(1)
	}
	defer s.Close()
	g, err := s.Global()
	if err != nil {
		fmt.Fprintln(os.Stderr, "global:", err)
		os.Exit(1)
	}
	run := func(calls int64) (int64, int64) { return chains(g, calls, window) }
	if os.Args[2] == "tiny-goroutines" {
		run = func(calls int64) (int64, int64) { return goroutines(ctx, g, calls, window) }
	}
	// Warm-up, not measured, as every managed client of bench/compare does it: CALLS/10 calls, repeated until
	// QIX_BENCH_WARM_S seconds (1.5 unless set) went by (Go compiles ahead of time; its heap and its
	// scheduler's threads settle).
	warm := calls / 10
	if warm < 1 {
		warm = 1
	}
	warmFor := 1.5
	if v, err := strconv.ParseFloat(os.Getenv("QIX_BENCH_WARM_S"), 64); err == nil {
		warmFor = v
	}
	for until := time.Now().Add(time.Duration(warmFor * float64(time.Second))); ; {
		run(warm)
		if !time.Now().Before(until) {
			break
		}
	}
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0) // stops the world for a moment: outside the clock
	c0, t0 := cpuSeconds(), time.Now()
	ok, failed := run(calls)
	wall, cpu := time.Since(t0).Seconds(), cpuSeconds()-c0
	runtime.ReadMemStats(&m1)
	fmt.Printf("ok=%d failed=%d wall_s=%.6f cpu_s=%.6f alloc_b=%.1f gcs=%d\n", ok, failed, wall, cpu,
		float64(m1.TotalAlloc-m0.TotalAlloc)/float64(calls), m1.NumGC-m0.NumGC)
	if failed != 0 || ok != calls {
		s.Close()
		os.Exit(1)
	}
}
