package qix_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libqix/libqix/bindings/go/qix"
)

// salesCube is a hypercube of Sum(Sales) per Region, with its first page fetched.
var salesCube = map[string]any{
	"qInfo": map[string]any{"qType": "sales"},
	"qHyperCubeDef": map[string]any{
		"qDimensions":       []any{map[string]any{"qDef": map[string]any{"qFieldDefs": []string{"Region"}}}},
		"qMeasures":         []any{map[string]any{"qDef": map[string]any{"qDef": "Sum(Sales)"}}},
		"qInitialDataFetch": []any{map[string]any{"qTop": 0, "qLeft": 0, "qWidth": 2, "qHeight": 100}},
	},
}

// cubeLayout is the part of a hypercube layout the tests read.
type cubeLayout struct {
	QHyperCube struct {
		QSize struct {
			Qcx int `json:"qcx"`
			Qcy int `json:"qcy"`
		} `json:"qSize"`
		QDataPages []struct {
			QMatrix [][]struct {
				QText string `json:"qText"`
			} `json:"qMatrix"`
		} `json:"qDataPages"`
	} `json:"qHyperCube"`
}

// rows flattens the first data page into "Region=Sales" strings.
func (l cubeLayout) rows() []string {
	var out []string
	for _, p := range l.QHyperCube.QDataPages {
		for _, r := range p.QMatrix {
			cells := make([]string, len(r))
			for i, c := range r {
				cells[i] = c.QText
			}
			out = append(out, strings.Join(cells, "="))
		}
	}
	return out
}

func dial(t *testing.T, url string, opts ...qix.Option) *qix.Session {
	t.Helper()
	s, err := qix.Dial(testContext(t), url, opts...)
	if err != nil {
		t.Fatalf("Dial(%s): %v", url, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openDemo(t *testing.T, s *qix.Session) *qix.Object {
	t.Helper()
	doc, err := s.OpenDoc(testContext(t), "demo")
	if err != nil {
		t.Fatalf("OpenDoc: %v", err)
	}
	return doc
}

func layoutOf(t *testing.T, o *qix.Object) cubeLayout {
	t.Helper()
	raw, err := o.GetLayout(testContext(t))
	if err != nil {
		t.Fatalf("GetLayout: %v", err)
	}
	var l cubeLayout
	if err := json.Unmarshal(raw, &l); err != nil {
		t.Fatalf("layout %s: %v", raw, err)
	}
	return l
}

func selectCategory(t *testing.T, doc *qix.Object, value string) {
	t.Helper()
	ctx := testContext(t)
	field, err := doc.CallObject(ctx, "GetField", []any{"Category"})
	if err != nil {
		t.Fatalf("GetField: %v", err)
	}
	defer field.Close()
	res, err := field.Call(ctx, "Select", []any{value})
	if err != nil || string(res) != "true" {
		t.Fatalf("Select %s: %s, %v", value, res, err)
	}
}

func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(patience):
		t.Fatalf("no %s within %v", what, patience)
	}
}

func asError(t *testing.T, err error) *qix.Error {
	t.Helper()
	var e *qix.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *qix.Error", err, err)
	}
	return e
}

// The shared scenario: connect, open the app, create a hypercube, select, "changed", refreshed layout.
func TestScenarioSelectChangedRefreshedLayout(t *testing.T) {
	s := dial(t, shared.url("demo"))
	doc := openDemo(t, s)
	if doc.Type() != "Doc" || doc.Handle() <= 0 {
		t.Fatalf("doc: type %q handle %d", doc.Type(), doc.Handle())
	}
	obj, err := doc.CreateSessionObject(testContext(t), salesCube)
	if err != nil {
		t.Fatalf("CreateSessionObject: %v", err)
	}
	if obj.Type() != "GenericObject" || obj.GenericType() != "sales" || obj.GenericID() == "" {
		t.Fatalf("object: type %q generic type %q id %q", obj.Type(), obj.GenericType(), obj.GenericID())
	}
	before := layoutOf(t, obj)
	if before.QHyperCube.QSize.Qcx != 2 || before.QHyperCube.QSize.Qcy != 6 || len(before.rows()) != 6 {
		t.Fatalf("layout before: size %+v rows %v", before.QHyperCube.QSize, before.rows())
	}

	// The first Changed() registers the listener; a GC between that and the event must not lose it
	// (callback payloads are integer tokens, not Go pointers).
	changed := obj.Changed()
	runtime.GC()
	runtime.GC()

	selectCategory(t, doc, "Bikes")
	waitFor(t, changed, "changed")
	after := layoutOf(t, obj)
	if len(after.rows()) == 0 || fmt.Sprint(after.rows()) == fmt.Sprint(before.rows()) {
		t.Fatalf("layout did not change with the selection: before %v after %v", before.rows(), after.rows())
	}
	select {
	case <-obj.Changed():
		t.Fatal("a second changed without a new change")
	default:
	}

	// The engine releasing the handle closes the object's Closed stream.
	if _, err := doc.Call(testContext(t), "DestroySessionObject", []any{obj.GenericID()}); err != nil {
		t.Fatalf("DestroySessionObject: %v", err)
	}
	waitFor(t, obj.Closed(), "closed")
	if _, err := obj.GetLayout(testContext(t)); !errors.Is(err, qix.ErrClosed) {
		t.Fatalf("GetLayout of a destroyed object: %v", err)
	}
}

// A reader that does not keep up finds one coalesced "changed", and the session never stalls.
func TestSlowChangedReaderGetsOneCoalescedSignal(t *testing.T) {
	s := dial(t, shared.url("demo"))
	doc := openDemo(t, s)
	obj, err := doc.CreateSessionObject(testContext(t), salesCube)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"Bikes", "Clothing", "Components", "Accessories"} {
		layoutOf(t, obj) // valid again, so the next selection is a new "changed"
		selectCategory(t, doc, c)
	}
	waitFor(t, obj.Changed(), "pending changed")
	if n := len(obj.Changed()); n != 0 {
		t.Fatalf("%d more changed signals after the coalesced one", n)
	}
}

// trafficLog collects the frames of a session (they reach it on libqix's event thread, possibly after the
// call that sent them has returned).
type trafficLog struct {
	mu     sync.Mutex
	sent   []string
	recved []string
	grew   chan struct{} // closed by the next frame: wakes awaitCount
}

func (l *trafficLog) record(sent bool, frame string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if sent {
		l.sent = append(l.sent, frame)
	} else {
		l.recved = append(l.recved, frame)
	}
	if l.grew != nil {
		close(l.grew)
		l.grew = nil
	}
}

// awaitCount waits until at least n frames (sent or received) contain every one of parts. It wakes on each
// new frame, never on a clock, and gives up (false) after patience.
func (l *trafficLog) awaitCount(n int, sent bool, parts ...string) bool {
	giveUp := time.NewTimer(patience)
	defer giveUp.Stop()
	for {
		l.mu.Lock()
		if l.countLocked(sent, parts...) >= n {
			l.mu.Unlock()
			return true
		}
		if l.grew == nil {
			l.grew = make(chan struct{})
		}
		grew := l.grew
		l.mu.Unlock()
		select {
		case <-grew:
		case <-giveUp.C:
			return false
		}
	}
}

// waitCount is awaitCount that fails the test.
func (l *trafficLog) waitCount(t *testing.T, what string, n int, sent bool, parts ...string) {
	t.Helper()
	if !l.awaitCount(n, sent, parts...) {
		t.Fatalf("%s: %d frames, not %d within %v", what, l.count(sent, parts...), n, patience)
	}
}

// count is the number of frames (sent or received) that contain every one of parts.
func (l *trafficLog) count(sent bool, parts ...string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.countLocked(sent, parts...)
}

func (l *trafficLog) countLocked(sent bool, parts ...string) int {
	frames := l.recved
	if sent {
		frames = l.sent
	}
	n := 0
next:
	for _, f := range frames {
		for _, p := range parts {
			if !strings.Contains(f, p) {
				continue next
			}
		}
		n++
	}
	return n
}

// Delta on (the default) and off give the same layouts; only the wire differs.
func TestDeltaOnAndOff(t *testing.T) {
	layouts := map[bool][]string{}
	for _, delta := range []bool{true, false} {
		log := &trafficLog{}
		s := dial(t, shared.url("demo"), qix.WithDelta(delta), qix.WithTrafficLog(log.record))
		doc := openDemo(t, s)
		obj, err := doc.CreateSessionObject(testContext(t), salesCube)
		if err != nil {
			t.Fatal(err)
		}
		first := layoutOf(t, obj)
		selectCategory(t, doc, "Bikes")
		second := layoutOf(t, obj)
		layouts[delta] = append(first.rows(), second.rows()...)
		if delta {
			log.waitCount(t, "GetLayout sent with delta", 2, true, `"GetLayout"`, `"delta":true`)
			if n := log.count(true, `"GetLayout"`, `"delta":true`); n != 2 {
				t.Fatalf("%d GetLayout requests with delta, want 2", n)
			}
			log.waitCount(t, "delta answers", 2, false, `"delta":true`)
		} else {
			log.waitCount(t, "GetLayout sent", 2, true, `"GetLayout"`)
			if n := log.count(true, `"GetLayout"`); n != 2 {
				t.Fatalf("%d GetLayout requests, want 2", n)
			}
			if n := log.count(true, `"delta":true`); n != 0 {
				t.Fatalf("delta off, yet %d frames asked for delta", n)
			}
		}
		s.Close()
	}
	if fmt.Sprint(layouts[true]) != fmt.Sprint(layouts[false]) {
		t.Fatalf("layouts differ: delta %v, no delta %v", layouts[true], layouts[false])
	}
}

// A context that ends cancels the call: CancelRequest goes to the engine, the call fails without waiting
// for the engine's answer (the simulator holds the calculation until it is cancelled).
func TestCancelThroughContext(t *testing.T) {
	sim := startSim(t, holdingCalculations...)
	log := &trafficLog{}
	s := dial(t, sim.url("demo"), qix.WithTrafficLog(log.record))
	doc := openDemo(t, s)

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := doc.Call(ctx, "Evaluate", []any{"Sum(Sales)"})
	if e := asError(t, err); e.Status != qix.ErrCancelled {
		t.Fatalf("status %v, want ErrCancelled: %v", e.Status, err)
	}
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, qix.ErrCancelled) {
		t.Fatalf("errors.Is fails for %v", err)
	}
	log.waitCount(t, "CancelRequest sent", 1, true, `"CancelRequest"`)
	log.waitCount(t, "the engine's abort", 1, false, "Request aborted")

	// Cancelled once the engine has the request.
	ctx2, cancel2 := context.WithCancel(context.Background())
	go func() {
		log.awaitCount(1, true, `Count(OrderId)`)
		cancel2()
	}()
	if _, err := doc.Call(ctx2, "Evaluate", []any{"Count(OrderId)"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("explicit cancel: %v", err)
	}
	// An already ended context sends nothing.
	if _, err := doc.Call(ctx2, "Evaluate", []any{"1"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("ended context: %v", err)
	}
	// The session is still usable.
	if v, err := s.Call(testContext(t), "EngineVersion", nil); err != nil || !strings.Contains(string(v), "qComponentVersion") {
		t.Fatalf("EngineVersion after cancellations: %s, %v", v, err)
	}

	// A session-wide call timeout ends the call with ErrTimeout (retriable) instead.
	timed := dial(t, sim.url("demo"), qix.WithCallTimeout(150*time.Millisecond))
	tdoc := openDemo(t, timed)
	_, err = tdoc.Call(testContext(t), "Evaluate", []any{"Sum(Sales)"})
	if e := asError(t, err); e.Status != qix.ErrTimeout || !e.Retriable {
		t.Fatalf("call timeout: %+v", e)
	}
}

// Calls made while another goroutine is issuing wait in the binding's queue and leave with the next batch;
// a call whose context ends while it is still queued returns ErrCancelled at once and is never sent.
func TestCallsQueuedWhileIssuing(t *testing.T) {
	log := &trafficLog{}
	s := dial(t, shared.url("demo"), qix.WithTrafficLog(log.record))
	doc := openDemo(t, s)
	release := qix.HoldSendTurn(s)
	released := false
	defer func() {
		if !released {
			release()
		}
	}()

	ctx, cancel := context.WithCancel(testContext(t))
	defer cancel()
	cancelledErr := make(chan error, 1)
	go func() {
		_, err := doc.Call(ctx, "Evaluate", []any{"7000+7"})
		cancelledErr <- err
	}()
	answered := make(chan error, 1)
	go func() {
		v, err := doc.Call(testContext(t), "Evaluate", []any{"8000+8"})
		if err == nil && string(v) != `"8008"` {
			err = fmt.Errorf("answer %s, want \"8008\"", v)
		}
		answered <- err
	}()
	// Both calls are queued: nobody issues them while the turn is held.
	for giveUp := time.Now().Add(patience); qix.QueuedCalls(s) < 2; runtime.Gosched() {
		if time.Now().After(giveUp) {
			t.Fatalf("%d calls queued, not 2 within %v", qix.QueuedCalls(s), patience)
		}
	}
	cancel()
	if err := <-cancelledErr; !errors.Is(err, context.Canceled) || !errors.Is(err, qix.ErrCancelled) {
		t.Fatalf("the call cancelled while queued: %v, want ErrCancelled wrapping context.Canceled", err)
	}
	if n := qix.QueuedCalls(s); n != 1 {
		t.Fatalf("%d calls queued after the cancel, want 1", n)
	}
	released = true
	release()
	if err := <-answered; err != nil {
		t.Fatalf("the queued call: %v", err)
	}
	// Frames are logged in the order the calls were issued: once the frame of a call made after the batch
	// is there, the cancelled call's would be too, had it been sent.
	if _, err := s.Call(testContext(t), "EngineVersion", nil); err != nil {
		t.Fatalf("EngineVersion after the batch: %v", err)
	}
	log.waitCount(t, "the queued call's request", 1, true, `8000+8`)
	log.waitCount(t, "the later call's request", 1, true, `EngineVersion`)
	if n := log.count(true, `7000+7`); n != 0 {
		t.Fatalf("the call cancelled while queued was sent (%d frames)", n)
	}
	if n := s.PendingCalls(); n != 0 {
		t.Fatalf("%d calls still pending", n)
	}
}

// Goroutines handed answers together make their next calls together: the first to queue a call while
// others were woken with it yields before it issues, so that the others, run meanwhile on its P, join its
// batch (one write) instead of each issuing its own; a lone call does not wait. With one P the eight
// goroutines released at once run one after another. The bounds leave room for the runtime: its fairness
// check may resume the yielding goroutine before every other one has queued (a second batch), and while a
// goroutine is in a cgo call the runtime may hand its P to the others (fewer batches than callers). Without
// the yield the woken callers issue 8 batches; a lone call held back would make 1.
func TestCallsOfGoroutinesWokenTogetherLeaveTogether(t *testing.T) {
	s := dial(t, shared.url("demo"))
	g, err := s.Global()
	if err != nil {
		t.Fatal(err)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	const callers = 8
	check := func(woken int64, atLeast, atMost uint64) {
		t.Helper()
		// Whoever holds the turn (the poll goroutine, after the answers of the last check) has given it back.
		qix.HoldSendTurn(s)()
		qix.SetWoken(s, woken) // as the poll goroutine leaves it after handing on `woken` answers
		before := qix.IssuedBatches(s)
		start := make(chan struct{})
		errs := make(chan error, callers)
		for i := 0; i < callers; i++ {
			go func() {
				<-start
				_, err := g.EngineVersion(testContext(t))
				errs <- err
			}()
		}
		close(start)
		for i := 0; i < callers; i++ {
			if err := <-errs; err != nil {
				t.Fatalf("EngineVersion: %v", err)
			}
		}
		if n := qix.IssuedBatches(s) - before; n < atLeast || n > atMost {
			t.Fatalf("%d callers (%d woken) issued %d batches, want %d to %d", callers, woken, n, atLeast, atMost)
		}
	}
	check(callers, 1, 2)
	// Nobody was handed an answer (lone calls): the first call goes out at once, alone.
	check(0, 2, callers)
}

// Engine errors keep the engine's code, LOCERR name, parameter and message.
func TestEngineErrorMapping(t *testing.T) {
	s := dial(t, shared.url("no-such-app"))
	_, err := s.OpenDoc(testContext(t), "no-such-app")
	e := asError(t, err)
	if e.Status != qix.ErrEngine || e.Code != 1003 || e.Name != "LOCERR_APP_NOT_FOUND" || e.Message == "" {
		t.Fatalf("OpenDoc of a missing app: %+v", e)
	}
	if e.Parameter != "no-such-app" {
		t.Fatalf("parameter %q, want the app id", e.Parameter)
	}
	if !errors.Is(err, qix.ErrEngine) || errors.Is(err, qix.ErrClosed) {
		t.Fatalf("errors.Is on %v", err)
	}
	if !strings.Contains(err.Error(), "1003") || !strings.Contains(err.Error(), "LOCERR_APP_NOT_FOUND") {
		t.Fatalf("message %q", err.Error())
	}

	_, err = s.Call(testContext(t), "NoSuchMethod", nil)
	if e := asError(t, err); e.Status != qix.ErrEngine || e.Code != -32601 {
		t.Fatalf("unknown method: %+v", e)
	}
	_, err = s.Call(testContext(t), "EngineVersion", json.RawMessage(`"not params"`))
	if e := asError(t, err); e.Status != qix.ErrInvalid {
		t.Fatalf("bad params: %+v", e)
	}
	_, err = s.Call(testContext(t), "EngineVersion", func() {})
	if !errors.Is(err, qix.ErrInvalid) {
		t.Fatalf("unencodable params: %v", err)
	}
	global, err := s.Global()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := global.CallObject(testContext(t), "EngineVersion", nil); !errors.Is(err, qix.ErrNotFound) {
		t.Fatalf("CallObject on a method without object: %v", err)
	}
}

// Losing the connection fails every pending call with ErrConnection and ends the session.
func TestDisconnectFailsPendingCalls(t *testing.T) {
	sim := startSim(t, holdingCalculations...)
	log := &trafficLog{}
	s := dial(t, sim.url("demo"), qix.WithTrafficLog(log.record))
	doc := openDemo(t, s)
	const n = 16
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func(i int) {
			_, err := doc.Call(testContext(t), "Evaluate", []any{fmt.Sprintf("Sum(Sales)+%d", i)})
			errs <- err
		}(i)
	}
	// The engine has every request (and holds them) when it goes away.
	log.waitCount(t, "16 requests sent", n, true, `"Evaluate"`)
	if p := s.PendingCalls(); p != n {
		t.Fatalf("%d pending calls, want %d", p, n)
	}
	sim.kill()
	for i := 0; i < n; i++ {
		select {
		case err := <-errs:
			if e := asError(t, err); e.Status != qix.ErrConnection || !e.Retriable {
				t.Fatalf("pending call: %+v", e)
			}
		case <-time.After(patience):
			t.Fatal("pending calls did not fail")
		}
	}
	waitFor(t, s.Closed(), "session closed")
	waitFor(t, doc.Closed(), "doc closed")
	if code, _, ok := s.CloseInfo(); !ok || code != 1006 {
		t.Fatalf("close info %d %v, want 1006", code, ok)
	}
	if _, err := doc.Call(testContext(t), "Evaluate", []any{"1"}); !errors.Is(err, qix.ErrClosed) {
		t.Fatalf("call after the disconnect: %v", err)
	}
}

// Close fails pending calls with ErrClosed; closing twice (session or object) is harmless.
func TestCloseTwiceAndPendingCalls(t *testing.T) {
	sim := startSim(t, holdingCalculations...)
	log := &trafficLog{}
	s, err := qix.Dial(testContext(t), sim.url("demo"), qix.WithTrafficLog(log.record))
	if err != nil {
		t.Fatal(err)
	}
	doc := openDemo(t, s)
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		go func() {
			_, err := doc.Call(context.Background(), "Evaluate", []any{"Sum(Sales)"})
			errs <- err
		}()
	}
	log.waitCount(t, "4 requests sent", 4, true, `"Evaluate"`)
	if p := s.PendingCalls(); p != 4 {
		t.Fatalf("%d pending calls, want 4", p)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		if err := <-errs; !errors.Is(err, qix.ErrClosed) {
			t.Fatalf("pending call after Close: %v", err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	waitFor(t, s.Closed(), "closed")
	waitFor(t, doc.Closed(), "doc closed")
	if code, _, ok := s.CloseInfo(); !ok || code != 1000 {
		t.Fatalf("close info %d %v, want 1000", code, ok)
	}
	if _, err := s.Call(context.Background(), "EngineVersion", nil); !errors.Is(err, qix.ErrClosed) {
		t.Fatalf("call after Close: %v", err)
	}
	if _, err := doc.GetLayout(context.Background()); !errors.Is(err, qix.ErrClosed) {
		t.Fatalf("object call after Close: %v", err)
	}
	if _, err := s.Notifications(); !errors.Is(err, qix.ErrClosed) {
		t.Fatalf("subscription after Close: %v", err)
	}
	if err := doc.Close(); err != nil {
		t.Fatal(err)
	}
	if err := doc.Close(); err != nil {
		t.Fatal(err)
	}
	if s.PendingCalls() != 0 {
		t.Fatal("pending calls after Close")
	}
}

// 10,000 calls from 8 goroutines, with garbage collections in between: every answer reaches its caller.
func TestTenThousandCallsFromEightGoroutines(t *testing.T) {
	s := dial(t, shared.url("demo"))
	doc := openDemo(t, s)
	const goroutines, perGoroutine = 8, 1250
	var wg sync.WaitGroup
	var failures atomic.Int64
	start := time.Now()
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			ctx := context.Background()
			for i := 0; i < perGoroutine; i++ {
				if i%250 == 0 {
					runtime.GC()
				}
				want := fmt.Sprint(g*10000 + i)
				v, err := doc.Call(ctx, "Evaluate", []any{fmt.Sprintf("%d+%d", g*10000, i)})
				if err != nil || string(v) != `"`+want+`"` {
					if failures.Add(1) < 5 {
						t.Errorf("goroutine %d call %d: %s, %v (want %q)", g, i, v, err, want)
					}
				}
			}
		}(g)
	}
	wg.Wait()
	t.Logf("%d calls in %v", goroutines*perGoroutine, time.Since(start))
	if n := failures.Load(); n != 0 {
		t.Fatalf("%d calls failed", n)
	}
	if n := s.PendingCalls(); n != 0 {
		t.Fatalf("%d calls still pending", n)
	}
}

// Events come out of the bridge two ways: the plain ones (successful results without object, changed,
// object closed) as records, many per cgo call, the others and every result larger than the records
// buffer through the event holder. With a buffer that holds one small record but not a larger one, both
// ways alternate within one stream: every call still gets its own answer, unwrapped (Call) and whole
// (the typed API), objects too, and nothing stays pending.
func TestResultsLargerThanTheRecordsBuffer(t *testing.T) {
	// A record's header is 16 bytes: Evaluate's unwrapped answers ("12345", 3-7 bytes) fit as records, its
	// whole results ({"qReturn":"12345"}, 17-21 bytes) only sometimes, the app layouts never.
	restore := qix.SetRecordsBuffer(16 + 19)
	s := dial(t, shared.url("demo"))
	restore()
	doc := openDemo(t, s)
	typed := &qix.Doc{Object: doc}
	ctx := testContext(t)
	const goroutines, perGoroutine = 8, 300
	var wg sync.WaitGroup
	var failures atomic.Int64
	fail := func(format string, args ...any) {
		if failures.Add(1) < 5 {
			t.Errorf(format, args...)
		}
	}
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < perGoroutine; i++ {
				want := fmt.Sprint(g*100000 + i*(i%7+1)*13)
				expr := fmt.Sprintf("%d+%d", g*100000, i*(i%7+1)*13)
				switch i % 4 {
				case 0:
					if v, err := doc.Call(ctx, "Evaluate", []any{expr}); err != nil || string(v) != `"`+want+`"` {
						fail("goroutine %d call %d: Call: %s, %v (want %q)", g, i, v, err, want)
					}
				case 1:
					if v, err := typed.Evaluate(ctx, expr); err != nil || v != want {
						fail("goroutine %d call %d: Evaluate: %q, %v (want %q)", g, i, v, err, want)
					}
				case 2:
					if l, err := typed.GetAppLayout(ctx); err != nil || l == nil || l.Title == "" {
						fail("goroutine %d call %d: GetAppLayout: %v, %v", g, i, l, err)
					}
				case 3:
					o, err := typed.GetField(ctx, "Region", nil)
					if err != nil || o == nil {
						fail("goroutine %d call %d: GetField: %v, %v", g, i, o, err)
					} else {
						o.Close()
					}
				}
			}
		}(g)
	}
	wg.Wait()
	if n := failures.Load(); n != 0 {
		t.Fatalf("%d calls failed", n)
	}
	if n := s.PendingCalls(); n != 0 {
		t.Fatalf("%d calls still pending", n)
	}
}

// A panicking callback is recovered and reported; the session carries on.
func TestCallbackPanicIsRecovered(t *testing.T) {
	var reported atomic.Int64
	var lastValue atomic.Value
	eight := make(chan struct{})
	s := dial(t, shared.url("demo"),
		qix.WithTrafficLog(func(bool, string) { panic("boom from the traffic log") }),
		qix.WithPanicHandler(func(p any) {
			lastValue.Store(fmt.Sprint(p))
			if reported.Add(1) == 8 {
				close(eight)
			}
		}))
	doc := openDemo(t, s)
	for i := 0; i < 3; i++ {
		if _, err := doc.Call(testContext(t), "Evaluate", []any{"1+1"}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, eight, "8th panic reported")
	if v, _ := lastValue.Load().(string); v != "boom from the traffic log" {
		t.Fatalf("reported %q", v)
	}
}

// Notifications that arrived before the subscription (OnConnected) are replayed.
func TestNotificationsReplayHistory(t *testing.T) {
	s := dial(t, shared.url("demo"))
	sub, err := s.Notifications("OnConnected")
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC() // between registration and delivery
	select {
	case n := <-sub.C:
		if n.Method != "OnConnected" || !strings.Contains(string(n.Params), "SESSION_CREATED") {
			t.Fatalf("notification %+v", n)
		}
	case <-time.After(patience):
		t.Fatal("no OnConnected")
	}
	sub.Close()
	sub.Close()
	if _, ok := <-sub.C; ok {
		t.Fatal("C still open after Close")
	}
	// Subscriptions still open when the session closes are closed with it.
	all, err := s.Notifications()
	if err != nil {
		t.Fatal(err)
	}
	<-all.C // the replayed OnConnected
	s.Close()
	for range all.C {
	}
}

func TestDialFailures(t *testing.T) {
	ctx := testContext(t)
	// Nothing listens on port 1 (a freed ephemeral port could be taken by another test's server).
	_, err := qix.Dial(ctx, "ws://127.0.0.1:1/app/demo")
	if e := asError(t, err); e.Status != qix.ErrNetwork {
		t.Fatalf("closed port: %+v", e)
	}
	if _, err := qix.Dial(ctx, shared.url("demo"), qix.WithOption("no.such.option", 1)); !errors.Is(err, qix.ErrInvalid) {
		t.Fatalf("unknown option: %v", err)
	}
	if _, err := qix.Dial(ctx, shared.url("demo"), qix.WithOption("delta", 1.5)); !errors.Is(err, qix.ErrInvalid) {
		t.Fatalf("bad option type: %v", err)
	}
	ended, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := qix.Dial(ended, shared.url("demo")); !errors.Is(err, context.Canceled) {
		t.Fatalf("ended context: %v", err)
	}

	// Authentication headers: the simulator wants a bearer token.
	secured := startSim(t, "--bearer", "s3cret")
	_, err = qix.Dial(ctx, secured.url("demo"))
	if e := asError(t, err); e.Status != qix.ErrHTTP || e.Code != 401 {
		t.Fatalf("no token: %+v", e)
	}
	s := dial(t, secured.url("demo"), qix.WithHeader("Authorization", "Bearer s3cret"),
		qix.WithOption("timeout.connect_ms", 5*time.Second))
	if _, err := s.Call(ctx, "EngineVersion", nil); err != nil {
		t.Fatal(err)
	}
}

// An Object nobody references any more is released by the garbage collector; the session carries on.
func TestUnreachableObjectIsReleased(t *testing.T) {
	s := dial(t, shared.url("demo"))
	doc := openDemo(t, s)
	base := qix.TrackedObjects(s)
	before := qix.TrackedClosed(s)
	for i := 0; i < 20; i++ {
		if _, err := doc.CreateSessionObject(testContext(t), salesCube); err != nil {
			t.Fatal(err)
		}
	}
	// The new handles' Closed channels (the Objects themselves are unreachable already).
	var released []<-chan struct{}
	for token, closed := range qix.TrackedClosed(s) {
		if _, old := before[token]; !old {
			released = append(released, closed)
		}
	}
	if len(released) != 20 {
		t.Fatalf("%d new handles tracked, want 20", len(released))
	}
	// One collection finds every unreachable Object and queues its finalizer, which releases the handle
	// and closes its channel: wait for those events.
	runtime.GC()
	for i, closed := range released {
		waitFor(t, closed, fmt.Sprintf("release of unreachable object %d", i+1))
	}
	if n := qix.TrackedObjects(s); n != base {
		t.Fatalf("%d handles tracked, want %d", n, base)
	}
	if _, err := doc.Call(testContext(t), "Evaluate", []any{"1+1"}); err != nil {
		t.Fatal(err)
	}
	runtime.KeepAlive(doc)
}

// Dial gives up when its context ends, also while the server does not answer the upgrade.
func TestDialHonoursContext(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c) // accepted, never answered
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	}()
	// The server never answers: only the context's deadline can end Dial with these errors.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err = qix.Dial(ctx, "ws://"+ln.Addr().String()+"/app/demo")
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, qix.ErrCancelled) {
		t.Fatalf("Dial to a silent server: %v", err)
	}
}
