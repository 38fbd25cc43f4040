package qix_test

import (
	"context"
	"encoding/json"
	"errors"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libqix/libqix/bindings/go/qix"
)

// asyncOutcome is what an asynchronous call's function got, sent on a channel so that the test goroutine
// checks it.
type asyncOutcome[T any] struct {
	v        T
	err      error
	onLibqix bool // the function ran on one of libqix's threads
}

// awaitOutcome takes the one outcome of an asynchronous call.
func awaitOutcome[T any](t *testing.T, ch <-chan asyncOutcome[T], what string) asyncOutcome[T] {
	t.Helper()
	select {
	case o := <-ch:
		return o
	case <-time.After(patience):
		t.Fatalf("%s: the function was not called", what)
	}
	panic("unreachable")
}

// A typed XxxAsync method's function gets the decoded result, once, on libqix's thread (a plain success).
func TestAsyncTypedResultOnLibqixThread(t *testing.T) {
	s := dial(t, shared.url("demo"))
	g, err := s.Global()
	mustNot(t, "Global", err)
	ch := make(chan asyncOutcome[*qix.NxEngineVersion], 2)
	if err := g.EngineVersionAsync(func(v *qix.NxEngineVersion, err error) {
		ch <- asyncOutcome[*qix.NxEngineVersion]{v, err, qix.OnLibqixThread()}
	}); err != nil {
		t.Fatal(err)
	}
	o := awaitOutcome(t, ch, "EngineVersionAsync")
	if o.err != nil || o.v == nil || o.v.ComponentVersion == "" {
		t.Fatalf("EngineVersionAsync: %+v, %v", o.v, o.err)
	}
	if runtime.GOOS == "linux" && !o.onLibqix {
		t.Fatal("the function of a plain success did not run on libqix's thread")
	}
	want, err := g.EngineVersion(testContext(t))
	mustNot(t, "EngineVersion", err)
	if *want != *o.v {
		t.Fatalf("async %+v, blocking %+v", *o.v, *want)
	}
	select {
	case extra := <-ch:
		t.Fatalf("the function was called twice: %+v", extra)
	default:
	}
}

// Chains of asynchronous calls, each making the next from the function of the one before (on libqix's
// thread): every call is answered once, the answers match their calls, and nothing is left pending.
func TestAsyncChainsFromTheFunctions(t *testing.T) {
	s := dial(t, shared.url("demo"))
	doc := &qix.Doc{Object: openDemo(t, s)}
	const chains, perChain = 8, 250
	var wg sync.WaitGroup
	var failures atomic.Int64
	var firstFailure atomic.Value
	wg.Add(chains)
	for c := 0; c < chains; c++ {
		c := c
		var step func(i int)
		step = func(i int) {
			if i == perChain {
				wg.Done()
				return
			}
			// An expression whose value names the call.
			err := doc.EvaluateAsync(itoa(c*perChain+i), func(v string, err error) {
				if err != nil || v != itoa(c*perChain+i) {
					if failures.Add(1) == 1 {
						firstFailure.Store([2]any{v, err})
					}
				}
				step(i + 1)
			})
			if err != nil {
				failures.Add(1)
				firstFailure.Store([2]any{"", err})
				wg.Done()
			}
		}
		step(0)
	}
	wg.Wait()
	if n := failures.Load(); n != 0 {
		t.Fatalf("%d of %d calls failed or were answered wrongly, first: %v", n, chains*perChain, firstFailure.Load())
	}
	if p := s.PendingCalls(); p != 0 {
		t.Fatalf("%d calls pending after every function ran", p)
	}
	// Every answer came in a run (one call into Go for the answers of a burst), and every call made by a
	// function was gathered and issued with the others of its run (the first call of each chain was made
	// by this goroutine, gathered too when a run was going on).
	runs, answers, gathered, alone := qix.AsyncCounts(s)
	if answers != chains*perChain || alone != 0 || runs == 0 || runs > answers {
		t.Fatalf("answers in runs %d (runs %d), alone %d; want %d in runs", answers, runs, alone, chains*perChain)
	}
	if gathered < chains*perChain-chains || gathered > chains*perChain {
		t.Fatalf("%d calls gathered, want %d to %d", gathered, chains*perChain-chains, chains*perChain)
	}
}

// The calls a function makes are gathered until its run of functions ends, but never overtaken: a blocking
// call made after an asynchronous one in the same function is sent after it; a call gathered on an object
// that the function then closes fails with ErrClosed, its function called once.
func TestAsyncGatheredCallsKeepTheirOrder(t *testing.T) {
	log := &trafficLog{}
	s := dial(t, shared.url("demo"), qix.WithTrafficLog(log.record))
	doc := &qix.Doc{Object: openDemo(t, s)}
	obj, err := doc.CreateSessionObject(testContext(t), &qix.GenericObjectProperties{Info: &qix.NxInfo{Type: "gathered"}})
	mustNot(t, "CreateSessionObject", err)
	gatheredDone := make(chan asyncOutcome[string], 2)
	blockingDone := make(chan asyncOutcome[string], 1)
	closedDone := make(chan asyncOutcome[*qix.GenericObjectLayout], 2)
	if err := doc.EvaluateAsync("'start'", func(string, error) {
		if err := obj.GetLayoutAsync(func(l *qix.GenericObjectLayout, err error) {
			closedDone <- asyncOutcome[*qix.GenericObjectLayout]{l, err, false}
		}); err != nil {
			closedDone <- asyncOutcome[*qix.GenericObjectLayout]{nil, err, false}
		}
		if err := obj.Close(); err != nil {
			closedDone <- asyncOutcome[*qix.GenericObjectLayout]{nil, err, false}
		}
		if err := doc.EvaluateAsync("'gathered'", func(v string, err error) {
			gatheredDone <- asyncOutcome[string]{v, err, false}
		}); err != nil {
			gatheredDone <- asyncOutcome[string]{"", err, false}
		}
		// Blocking: the calls gathered so far are issued first, and the run's gathering ends.
		v, err := doc.Evaluate(context.Background(), "'blocking'")
		blockingDone <- asyncOutcome[string]{v, err, false}
	}); err != nil {
		t.Fatal(err)
	}
	if o := awaitOutcome(t, gatheredDone, "the gathered call"); o.err != nil || o.v != "gathered" {
		t.Fatalf("the gathered call: %q, %v", o.v, o.err)
	}
	if o := awaitOutcome(t, blockingDone, "the blocking call"); o.err != nil || o.v != "blocking" {
		t.Fatalf("the blocking call: %q, %v", o.v, o.err)
	}
	if o := awaitOutcome(t, closedDone, "the call on the closed object"); !errors.Is(o.err, qix.ErrClosed) || o.v != nil {
		t.Fatalf("the call gathered on an object closed before it was issued: %+v, %v", o.v, o.err)
	}
	log.waitCount(t, "both requests logged", 1, true, "'blocking'")
	log.waitCount(t, "both requests logged", 1, true, "'gathered'")
	log.mu.Lock()
	gathered, blocking := -1, -1
	for i, frame := range log.sent {
		if strings.Contains(frame, "'gathered'") {
			gathered = i
		} else if strings.Contains(frame, "'blocking'") {
			blocking = i
		}
	}
	log.mu.Unlock()
	if gathered < 0 || blocking < 0 || gathered > blocking {
		t.Fatalf("sent: the gathered call at %d, the blocking call made after it at %d", gathered, blocking)
	}
	select {
	case o := <-gatheredDone:
		t.Fatalf("a function called twice: %+v", o)
	case o := <-closedDone:
		t.Fatalf("a function called twice: %+v", o)
	default:
	}
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

// Failures and object results: an engine error reaches the function as *Error (on a goroutine of its
// own), an object result as the typed object, usable at once; params that do not encode fail at once and
// the function is never called.
func TestAsyncErrorsAndObjects(t *testing.T) {
	s := dial(t, shared.url("demo"))
	errs := make(chan asyncOutcome[json.RawMessage], 1)
	if err := s.CallAsync("NoSuchMethod", nil, func(r json.RawMessage, err error) {
		errs <- asyncOutcome[json.RawMessage]{r, err, qix.OnLibqixThread()}
	}); err != nil {
		t.Fatal(err)
	}
	o := awaitOutcome(t, errs, "NoSuchMethod")
	if e := asError(t, o.err); e.Status != qix.ErrEngine || e.Code != -32601 || o.v != nil {
		t.Fatalf("unknown method: %+v, %s", e, o.v)
	}

	raw := make(chan asyncOutcome[json.RawMessage], 1)
	if err := s.CallAsync("EngineVersion", nil, func(r json.RawMessage, err error) {
		raw <- asyncOutcome[json.RawMessage]{r, err, false}
	}); err != nil {
		t.Fatal(err)
	}
	// The untyped result is the caller's to keep (a copy, not libqix's buffer): read after the function.
	if o := awaitOutcome(t, raw, "CallAsync"); o.err != nil || !json.Valid(o.v) || len(o.v) < 10 {
		t.Fatalf("CallAsync EngineVersion: %s, %v", o.v, o.err)
	}

	doc := &qix.Doc{Object: openDemo(t, s)}
	objs := make(chan asyncOutcome[*qix.GenericObject], 1)
	if err := doc.CreateSessionObjectAsync(&qix.GenericObjectProperties{Info: &qix.NxInfo{Type: "async"}},
		func(obj *qix.GenericObject, err error) {
			objs <- asyncOutcome[*qix.GenericObject]{obj, err, false}
		}); err != nil {
		t.Fatal(err)
	}
	obj := awaitOutcome(t, objs, "CreateSessionObjectAsync")
	if obj.err != nil || obj.v == nil {
		t.Fatalf("CreateSessionObjectAsync: %v, %v", obj.v, obj.err)
	}
	layout, err := obj.v.GetLayout(testContext(t))
	if err != nil || layout.Info == nil || layout.Info.Type != "async" {
		t.Fatalf("the object's layout: %+v, %v", layout, err)
	}

	called := false
	err = s.CallAsync("EngineVersion", func() {}, func(json.RawMessage, error) { called = true })
	if !errors.Is(err, qix.ErrInvalid) || called {
		t.Fatalf("params that do not encode: %v (function called: %v)", err, called)
	}
}

// A blocking call made inside an asynchronous call's function (on libqix's thread, which the session's
// events and the sockets would otherwise wait for) is answered: the binding hands the session's events
// over first. The same for a call of another session, and for Close.
func TestAsyncFunctionsMayBlock(t *testing.T) {
	s := dial(t, shared.url("demo"))
	other := dial(t, shared.url("demo"))
	g, err := s.Global()
	mustNot(t, "Global", err)
	og, err := other.Global()
	mustNot(t, "Global", err)
	type result struct {
		mine, others *qix.NxEngineVersion
		err          error
	}
	done := make(chan result, 1)
	if err := g.EngineVersionAsync(func(*qix.NxEngineVersion, error) {
		var r result
		if r.mine, r.err = g.EngineVersion(context.Background()); r.err == nil {
			r.others, r.err = og.EngineVersion(context.Background())
		}
		done <- r
	}); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		if r.err != nil || r.mine == nil || r.others == nil {
			t.Fatalf("blocking calls inside the function: %+v", r)
		}
	case <-time.After(patience):
		t.Fatal("a blocking call inside an asynchronous call's function was never answered")
	}

	closed := make(chan error, 1)
	if err := g.EngineVersionAsync(func(*qix.NxEngineVersion, error) { closed <- s.Close() }); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(patience):
		t.Fatal("Close inside an asynchronous call's function did not return")
	}
	waitFor(t, s.Closed(), "closed from the function")
	if _, err := og.EngineVersion(testContext(t)); err != nil {
		t.Fatalf("the other session after: %v", err)
	}
}

// Close fails the asynchronous calls still pending with ErrClosed, each function called once; after Close
// an Async method returns ErrClosed and never calls its function.
func TestAsyncCallsAtClose(t *testing.T) {
	sim := startSim(t, holdingCalculations...)
	log := &trafficLog{}
	s, err := qix.Dial(testContext(t), sim.url("demo"), qix.WithTrafficLog(log.record))
	if err != nil {
		t.Fatal(err)
	}
	doc := &qix.Doc{Object: openDemo(t, s)}
	const n = 4
	outcomes := make(chan error, 2*n)
	for i := 0; i < n; i++ {
		if err := doc.EvaluateAsync("Sum(Sales)", func(_ string, err error) { outcomes <- err }); err != nil {
			t.Fatal(err)
		}
	}
	log.waitCount(t, "4 requests sent", n, true, `"Evaluate"`)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		select {
		case err := <-outcomes:
			if !errors.Is(err, qix.ErrClosed) {
				t.Fatalf("pending asynchronous call at Close: %v", err)
			}
		case <-time.After(patience):
			t.Fatal("a pending asynchronous call's function was not called at Close")
		}
	}
	called := make(chan struct{}, 1)
	if err := doc.EvaluateAsync("1", func(string, error) { called <- struct{}{} }); !errors.Is(err, qix.ErrClosed) {
		t.Fatalf("EvaluateAsync after Close: %v", err)
	}
	if err := s.CallAsync("EngineVersion", nil, func(json.RawMessage, error) { called <- struct{}{} }); !errors.Is(err, qix.ErrClosed) {
		t.Fatalf("CallAsync after Close: %v", err)
	}
	select {
	case err := <-outcomes:
		t.Fatalf("a function called twice: %v", err)
	case <-called:
		t.Fatal("the function of a call that was not made was called")
	default:
	}
}

// A function that blocks (a blocking call) while answers of its own run are still to be handed to their
// functions: those go along with the hand-over, and another thread runs them, first. Here the first
// function, once its blocking call has returned, waits for the second function: when both answers came in
// one run, the second function waits on the first one's thread otherwise, for ever. (Both calls are made
// in one function, so their requests leave in one write and their answers usually come in one run.)
func TestAsyncRestOfARunGoesAlongWhenAFunctionBlocks(t *testing.T) {
	s := dial(t, shared.url("demo"))
	doc := &qix.Doc{Object: openDemo(t, s)}
	for round := 0; round < 20; round++ {
		type seen struct {
			blocking string
			err      error
			second   bool // the second function ran while the first one waited for it
		}
		done := make(chan seen, 1)
		secondRan := make(chan struct{})
		if err := doc.EvaluateAsync("'start'", func(string, error) {
			if err := doc.EvaluateAsync("'first'", func(string, error) {
				v, err := doc.Evaluate(context.Background(), "'blocking'")
				select {
				case <-secondRan:
					done <- seen{v, err, true}
				case <-time.After(patience):
					done <- seen{v, err, false}
				}
			}); err != nil {
				done <- seen{"", err, false}
				return
			}
			if err := doc.EvaluateAsync("'second'", func(string, error) {
				close(secondRan)
			}); err != nil {
				done <- seen{"", err, false}
			}
		}); err != nil {
			t.Fatal(err)
		}
		o := <-done
		if o.err != nil || o.blocking != "blocking" {
			t.Fatalf("round %d: the blocking call: %q, %v", round, o.blocking, o.err)
		}
		if !o.second {
			t.Fatalf("round %d: the second function waited behind the first one", round)
		}
	}
}
