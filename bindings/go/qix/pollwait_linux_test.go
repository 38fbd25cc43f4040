package qix_test

import (
	"context"
	"runtime"
	"strings"
	"testing"
)

// pollLoops counts the goroutines in a session's poll loop, and of those the ones that wait in Go's
// netpoller (waitLoop) rather than in C.
func pollLoops() (loops, netpoller int) {
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
			if strings.Contains(g, "qix.(*Session).waitLoop") {
				netpoller++
			}
		}
	}
	return loops, netpoller
}

// On Linux the poll goroutine waits for the session's readiness descriptor in Go's netpoller (no OS thread
// blocked in C), and Close ends it.
func TestPollGoroutineWaitsInNetpoller(t *testing.T) {
	// (Loops are counted for the message only: a loop of an earlier test may still be leaving pollLoop.)
	_, net0 := pollLoops()
	s := dial(t, shared.url("demo"))
	if _, err := s.Call(context.Background(), "EngineVersion", nil); err != nil {
		t.Fatal(err)
	}
	if loops, net := pollLoops(); net != net0+1 {
		t.Fatalf("%d poll loops, %d in the netpoller (%d before Dial): the new session's loop does not wait there",
			loops, net, net0)
	}
	s.Close()
	// Close returns after the loop left waitLoop (its deferred close of loopDone may still be running).
	if _, net := pollLoops(); net != net0 {
		t.Fatalf("%d poll loops in the netpoller after Close, want %d", net, net0)
	}
}
