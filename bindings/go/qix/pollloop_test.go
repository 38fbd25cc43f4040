package qix_test

import (
	"context"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/libqix/libqix/bindings/go/qix"
)

// pollLoops counts the goroutines in a session's poll loop, and of those the ones parked on a channel
// (waiting for libqix's wake-up) rather than running or blocked in C.
func pollLoops() (loops, parked int) {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "qix.(*Session).pollLoop") {
			loops++
			if strings.HasPrefix(g, "goroutine ") && strings.Contains(strings.SplitN(g, "\n", 2)[0], "[chan receive") {
				parked++
			}
		}
	}
	return loops, parked
}

// Between bursts the poll goroutine is parked in the Go runtime (no OS thread blocked for it), woken by
// libqix through a channel; answers reach it that way, and Close ends it.
func TestPollGoroutineParksOnAChannel(t *testing.T) {
	// (Loops are counted for the message only: a loop of an earlier test may still be leaving pollLoop.)
	_, parked0 := pollLoops()
	s := dial(t, shared.url("demo"))
	for i := 0; i < 3; i++ {
		if _, err := s.Call(context.Background(), "EngineVersion", nil); err != nil {
			t.Fatal(err)
		}
	}
	// The call returned once the poll goroutine handed its answer on; it then parks again, which this waits
	// for by yielding (no other goroutine of the test runs).
	for {
		if _, parked := pollLoops(); parked == parked0+1 {
			break
		}
		runtime.Gosched()
	}
	s.Close()
	// Close returns after the loop returned (its deferred close of loopDone may still be running).
	if loops, parked := pollLoops(); parked != parked0 {
		t.Fatalf("%d poll loops, %d parked after Close, want %d parked", loops, parked, parked0)
	}
}

// Answers wake the poll goroutine from libqix's own threads, which the binding had Go start (its hosted
// context): there a call into Go costs about as much as a cgo call, where a thread Go did not start would pay
// for a new Go thread's set-up each time. (The thread ids are known on Linux only.)
func TestAnswersWakeThePollGoroutineFromThreadsGoStarted(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("thread ids are known on Linux only")
	}
	var fromLibqix, fromOthers atomic.Int64
	qix.SetReadyHook(func(ours bool) {
		if ours {
			fromLibqix.Add(1)
		} else {
			fromOthers.Add(1) // a goroutine's own call into libqix (Close's wake-up, a call that fails at once)
		}
	})
	defer qix.SetReadyHook(nil)
	s := dial(t, shared.url("demo"))
	defer s.Close()
	for i := 0; i < 20; i++ {
		if _, err := s.Call(context.Background(), "EngineVersion", nil); err != nil {
			t.Fatal(err)
		}
	}
	// Each answer woke the loop that handed it on, before its call returned, from libqix's I/O thread (or
	// found it woken already, by an earlier signal from there).
	if n := fromLibqix.Load(); n == 0 {
		t.Fatalf("%d wake-ups from libqix's threads that Go started (and %d from other threads) for 20 answers",
			n, fromOthers.Load())
	}
}
