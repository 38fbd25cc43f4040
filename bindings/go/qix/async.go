package qix

import (
	"encoding/binary"
	"encoding/json"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/libqix/libqix/bindings/go/internal/qixswig"
)

// Asynchronous calls (the package documentation says what users get): the call is issued with the async
// flag, and its waiter is a function instead of a channel. The bridge keeps the plain successes that a run
// of libqix's callbacks delivers and hands them to CallsDone together at the run's end, on the libqix
// thread that ran it (qixgoCallsDone; CallDone, one at a time, where it cannot keep them); the inbox takes
// every other outcome to the poll goroutine, which runs the function on a goroutine of its own (dispatch);
// Close runs the functions still waiting with ErrClosed, also each on a goroutine of its own.
//
// While CallsDone runs a session's functions, the asynchronous calls made on that session (by them, or by
// any goroutine meanwhile) are gathered (gatherCall) and issued together in one cgo call when the run ends
// (flushGathered), instead of one cgo call each (issueAsync): one crossing each way per burst of answers.
// They leave in the order they were made: a blocking call on the session (enqueue) and a function that is
// about to block (handOverHere, which ends the gathering of its run) issue what was gathered first.

func init() {
	qixswig.InboxReady = inboxReady
	qixswig.CallDone = callDone
	qixswig.CallsDone = callsDone
}

// callsDone runs the functions of a run's asynchronous calls (records, count: see qixswig.CallsDone) of the
// session with this key, in order, on the libqix thread that ran their completions, gathering the calls
// they make meanwhile. handedOver turns non-zero when one of them hands the session's events over before
// it blocks (handOverHere), which ends the run's gathering then; the records after its own then went
// along with the hand-over (restDeferred: another thread runs them, first), and the loop stops there.
func callsDone(key uintptr, records []byte, count int64, handedOver *int32, next *int64, restDeferred *int32) {
	s := sessionByKey(key)
	if s == nil {
		return // Close freed it (and called the waiting functions with ErrClosed)
	}
	s.mu.Lock()
	s.gatherRuns++
	s.gathering.Store(true)
	s.mu.Unlock()
	// Counted before the functions run (for the tests: the last function may end the test's wait); what
	// went along with a hand-over is counted by the run that delivers it.
	s.asyncRuns.Add(1)
	s.asyncRunAnswers.Add(uint64(count))
	total := len(records)
	for ran := int64(0); len(records) >= 16; {
		token := binary.LittleEndian.Uint64(records)
		n := int(binary.LittleEndian.Uint32(records[8:]))
		if n > len(records)-16 {
			break
		}
		body := records[16 : 16+n : 16+n]
		records = records[16+n:]
		// Read by the bridge on this thread only (qixgo_hand_over_here, from this function): no atomic.
		*next = int64(total - len(records))
		ran++
		s.runPlain(token, body)
		if atomic.LoadInt32(restDeferred) != 0 {
			s.asyncRunAnswers.Add(^uint64(count - ran - 1)) // minus the records not run here
			break
		}
	}
	// A function that blocked handed the session's events over (handOverHere), which ended the run's
	// gathering then.
	if atomic.LoadInt32(handedOver) == 0 {
		s.endGathering()
	}
}

// handOverHere is called before the binding blocks (qixswig.HandOverHere: the session's later events no
// longer wait for the asynchronous calls' functions running on this thread) and issues the calls that
// those functions' run gathered, ending the gathering: they must not wait for the block.
func handOverHere() {
	if key := qixswig.HandOverHere(); key != 0 {
		if s := sessionByKey(key); s != nil {
			s.endGathering()
		}
	}
}

// gatheredCall is an asynchronous call kept by gatherCall until flushGathered issues it.
type gatheredCall struct {
	o      *objectCore // nil: Global
	method string
	params string
	token  uint64
	raw    bool
}

// gatherCall keeps an asynchronous call to be issued with the others of the run of functions going on
// (callsDone): true when it did (or err when the object is closed), false when the session is not
// gathering (the caller issues the call itself).
func (s *Session) gatherCall(o *objectCore, method, params string, raw bool, done func(outcome)) (bool, error) {
	if o != nil {
		o.mu.RLock()
		released := o.released
		o.mu.RUnlock()
		if released {
			return false, errorf(ErrClosed, "the object was closed with Close")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gatherRuns == 0 && !s.flushing && len(s.gathered) == 0 {
		return false, nil
	}
	token := s.addAsyncWaiterLocked(asyncWaiter{fn: done, raw: raw})
	s.gathered = append(s.gathered, gatheredCall{o: o, method: method, params: params, token: token, raw: raw})
	return true, nil
}

// endGathering ends a run's gathering (callsDone, or handOverHere from one of its functions) and issues
// what was gathered.
func (s *Session) endGathering() {
	s.mu.Lock()
	s.gatherRuns--
	s.mu.Unlock()
	s.flushGathered()
}

// flushGathered issues the gathered calls, in the order they were made, in one cgo call per look at them;
// one flush at a time, which goes on until nothing is left (calls gathered while it issues included).
func (s *Session) flushGathered() {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	for {
		s.mu.Lock()
		calls := s.gathered
		if len(calls) == 0 {
			s.flushing = false
			if s.gatherRuns == 0 {
				s.gathering.Store(false)
			}
			s.mu.Unlock()
			return
		}
		s.gathered, s.gatheredSpare = s.gatheredSpare[:0], nil
		s.flushing = true
		s.mu.Unlock()
		s.issueGathered(calls)
		for i := range calls {
			calls[i] = gatheredCall{}
		}
		s.mu.Lock()
		if s.gatheredSpare == nil {
			s.gatheredSpare = calls[:0]
		}
		s.mu.Unlock()
	}
}

// issueGathered issues calls in one CallBatch (the caller holds flushMu), their objects read-locked until
// it returns; a call whose object was closed meanwhile, or all of them once Close frees the session, fail
// with ErrClosed (unless Close took their functions already).
func (s *Session) issueGathered(calls []gatheredCall) {
	var failed []uint64
	defer func() {
		for _, token := range failed {
			if w, ok := s.takeWaiter(token); ok && w.fn != nil {
				go w.fn(outcome{err: errorf(ErrClosed, "the session or the object was closed")})
			}
		}
	}()
	if !s.live.TryRLock() {
		for _, c := range calls {
			failed = append(failed, c.token)
		}
		return
	}
	defer s.live.RUnlock()
	if s.freed {
		for _, c := range calls {
			failed = append(failed, c.token)
		}
		return
	}
	locked := s.gatherLocked[:0]
	buf := s.gatherBuf[:0]
	for _, c := range calls {
		var obj uint64
		if c.o != nil {
			if !containsObject(locked, c.o) {
				c.o.mu.RLock()
				locked = append(locked, c.o)
			}
			if c.o.released {
				failed = append(failed, c.token)
				continue
			}
			obj = uint64(c.o.h.Swigcptr())
		}
		buf = appendCallRecord(buf, obj, c.token, c.raw, true, c.method, c.params)
	}
	s.asyncGathered.Add(uint64(len(calls) - len(failed))) // before their answers can come (the tests read it)
	qixswig.CallBatch(s.conn, buf)
	for i, o := range locked {
		o.mu.RUnlock()
		locked[i] = nil
	}
	s.gatherLocked = locked[:0]
	if cap(buf) <= maxKeptSendBuffer {
		s.gatherBuf = buf[:0]
	} else {
		s.gatherBuf = nil
	}
}

// containsObject tells whether o is in list (a run's calls are on a few objects: a scan).
func containsObject(list []*objectCore, o *objectCore) bool {
	for _, x := range list {
		if x == o {
			return true
		}
	}
	return false
}

// inboxReady wakes the poll goroutine of the session with this key (never blocks: a wake-up already
// waiting stands for this one).
func inboxReady(key uintptr) {
	s := sessionByKey(key)
	if s == nil {
		return // Close freed it
	}
	select {
	case s.ready <- struct{}{}:
	default:
	}
}

// callDone runs the function of the asynchronous call token of the session with this key with its plain
// result, on the libqix thread that ran the call's completion. body is libqix's, valid during the call
// only: the typed API's functions (raw) decode it there into values of their own (the readers copy what
// they keep: jsonread.go), the untyped ones get a copy (plainDone).
func callDone(key uintptr, token uint64, body []byte) {
	s := sessionByKey(key)
	if s == nil {
		return // Close freed it (and called the waiting functions with ErrClosed)
	}
	s.asyncAlone.Add(1)
	s.runPlain(token, body)
}

// runPlain runs the function of the asynchronous call token with its plain result (body: the typed API's
// whole result object when the call asked for it, else the unwrapped result), unless Close took it (and
// reports ErrClosed).
func (s *Session) runPlain(token uint64, body []byte) {
	w, ok := s.takeWaiter(token)
	if !ok || w.fn == nil {
		return
	}
	if w.raw {
		w.fn(outcome{raw: body})
	} else {
		w.fn(outcome{json: body})
	}
}

// asyncTokenBit marks the tokens of asynchronous calls: the rest is the index of their function in
// Session.asyncWaiters (the Go tokens of waited-for calls count up from 1, the bridge's object tokens have
// bit 63 set).
const asyncTokenBit = uint64(1) << 62

// asyncWaiter is an asynchronous call's function, and whether it wants the engine's whole result object.
type asyncWaiter struct {
	fn  func(outcome)
	raw bool
}

// addAsyncWaiter keeps a's function until the call's outcome, and returns the call's token: a slice and a
// free list rather than the calls' map, for the one lock and no hashing per call.
func (s *Session) addAsyncWaiter(a asyncWaiter) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addAsyncWaiterLocked(a)
}

// addAsyncWaiterLocked is addAsyncWaiter with s.mu held.
func (s *Session) addAsyncWaiterLocked(a asyncWaiter) uint64 {
	var i uint32
	if n := len(s.asyncFree); n > 0 {
		i = s.asyncFree[n-1]
		s.asyncFree = s.asyncFree[:n-1]
		s.asyncWaiters[i] = a
	} else {
		i = uint32(len(s.asyncWaiters))
		s.asyncWaiters = append(s.asyncWaiters, a)
	}
	return asyncTokenBit | uint64(i)
}

// takeWaiter removes and returns the waiter of token (a waited-for call's channel, or an asynchronous
// call's function); false when there is none (Close took it).
func (s *Session) takeWaiter(token uint64) (waiter, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if token&asyncTokenBit != 0 {
		i := token &^ asyncTokenBit
		if i >= uint64(len(s.asyncWaiters)) || s.asyncWaiters[i].fn == nil {
			return waiter{}, false
		}
		a := s.asyncWaiters[i]
		s.asyncWaiters[i] = asyncWaiter{}
		s.asyncFree = append(s.asyncFree, uint32(i))
		return waiter{fn: a.fn, raw: a.raw}, true
	}
	w, ok := s.calls[token]
	if ok {
		delete(s.calls, token)
	}
	return w, ok
}

// The sessions the bridge may call Go for, by key: a slot's index + 1 in the low 32 bits, a count of
// registrations in the high ones, so that a key outliving its session (a late wake-up from a callback that
// was running while Close freed the Conn) finds nothing rather than the slot's next session. The table is
// read without a lock (its slice replaced whole under sessionsMu): one atomic load per call from C.
var (
	sessionsMu    sync.Mutex
	sessions      atomic.Pointer[[]sessionSlot]
	registrations uintptr // guarded by sessionsMu
)

type sessionSlot struct {
	key uintptr
	s   *Session
}

// registerSession gives s a key (in a free slot, or a new one).
func registerSession(s *Session) uintptr {
	sessionsMu.Lock()
	defer sessionsMu.Unlock()
	var table []sessionSlot
	if p := sessions.Load(); p != nil {
		table = append(table, (*p)...)
	}
	i := len(table)
	for j, slot := range table {
		if slot.s == nil {
			i = j
			break
		}
	}
	if i == len(table) {
		table = append(table, sessionSlot{})
	}
	registrations++
	key := uintptr(i+1) | (registrations&0xffffffff)<<32
	table[i] = sessionSlot{key: key, s: s}
	sessions.Store(&table)
	return key
}

// unregisterSession frees key's slot.
func unregisterSession(key uintptr) {
	sessionsMu.Lock()
	defer sessionsMu.Unlock()
	table := append([]sessionSlot(nil), (*sessions.Load())...)
	if i := int(key&0xffffffff) - 1; i < len(table) && table[i].key == key {
		table[i] = sessionSlot{}
	}
	sessions.Store(&table)
}

// sessionByKey is the session registered under key, or nil once it is unregistered.
func sessionByKey(key uintptr) *Session {
	p := sessions.Load()
	if p == nil {
		return nil
	}
	if i := int(key&0xffffffff) - 1; i >= 0 && i < len(*p) && (*p)[i].key == key {
		return (*p)[i].s
	}
	return nil
}

// callAsync issues method on o (nil: Global) without waiting: done gets the outcome exactly once (see
// above), unless an error is returned (the call was not made). raw: the outcome holds the engine's whole
// result object (the typed API), else the unwrapped result.
func (s *Session) callAsync(o *objectCore, method string, params any, raw bool, done func(outcome)) error {
	text, err := encodeParams(params)
	if err != nil {
		return err
	}
	qixswig.UsingAsync()
	if s.gathering.Load() {
		if gathered, err := s.gatherCall(o, method, text, raw, done); gathered || err != nil {
			return err
		}
	}
	token := s.addAsyncWaiter(asyncWaiter{fn: done, raw: raw})
	if err := s.issueAsync(o, method, text, token, raw); err != nil {
		if _, waiting := s.takeWaiter(token); !waiting {
			return nil // Close took the waiter first: it calls done with ErrClosed
		}
		return err
	}
	return nil
}

// issueAsync issues one asynchronous call at once, in a cgo call of its own (qixswig.CallBatch with one
// record), not through the send queue: it needs no yield nor turn, since where it matters — a call made
// by an asynchronous call's function, on libqix's thread — libqix holds the calls of a burst and writes
// them together. Fails at once when the session or the object is closed (or Close is freeing them).
func (s *Session) issueAsync(o *objectCore, method, params string, token uint64, raw bool) error {
	if !s.live.TryRLock() {
		return errorf(ErrClosed, "the session is closed")
	}
	defer s.live.RUnlock()
	if s.freed {
		return errorf(ErrClosed, "the session is closed")
	}
	var obj uint64
	if o != nil {
		o.mu.RLock()
		defer o.mu.RUnlock()
		if o.released {
			return errorf(ErrClosed, "the object was closed with Close")
		}
		obj = uint64(o.h.Swigcptr())
	}
	bp := asyncBufs.Get().(*[]byte)
	buf := appendCallRecord((*bp)[:0], obj, token, raw, true, method, params)
	qixswig.CallBatch(s.conn, buf)
	if cap(buf) <= maxKeptSendBuffer {
		*bp = buf[:0]
		asyncBufs.Put(bp)
	}
	return nil
}

// asyncBufs holds the encoding buffers of issueAsync.
var asyncBufs = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

// CallAsync calls a Global method (as Call) without waiting: fn gets the engine's result (its qReturn or
// its out values, as Call returns them) or the error, exactly once, on libqix's thread or a goroutine of
// its own (see the package documentation, "Asynchronous calls"; fn must not block). result is fn's to
// keep. A non-nil error means the call was not made and fn will not be called.
func (s *Session) CallAsync(method string, params any, fn func(result json.RawMessage, err error)) error {
	return s.callAsync(nil, method, params, false, plainDone(fn))
}

// CallAsync calls a method of this object (as Call) without waiting; see Session.CallAsync.
func (o *Object) CallAsync(method string, params any, fn func(result json.RawMessage, err error)) error {
	err := o.core.s.callAsync(o.core, method, params, false, plainDone(fn))
	runtime.KeepAlive(o)
	return err
}

// plainDone adapts an untyped asynchronous call's function: an object the result carries is released
// (CallAsync answers the JSON; CallObject's way of keeping it has no Async form).
func plainDone(fn func(json.RawMessage, error)) func(outcome) {
	return func(out outcome) {
		if out.obj != nil {
			out.obj.release()
		}
		if out.err != nil {
			fn(nil, out.err)
			return
		}
		fn(append(json.RawMessage(nil), out.json...), nil) // out.json may be libqix's (CallDone)
	}
}

// invokeAsync is the typed XxxAsync methods' one call path (invoke's counterpart): done gets the outcome
// holding the engine's whole result object (out.raw, which may be libqix's memory: decode it in done, and
// keep nothing of it), and its error (outcome.error).
func invokeAsync(o *Object, method string, params map[string]any, done func(outcome)) error {
	var p any
	if params != nil {
		p = params
	}
	err := o.core.s.callAsync(o.core, method, p, true, done)
	runtime.KeepAlive(o)
	return err
}

// error is the outcome's error as an error (nil when there is none: never a nil *Error).
func (out outcome) error() error {
	if out.err != nil {
		return out.err
	}
	return nil
}

// callVoidAsync is callVoid without waiting.
func callVoidAsync(o *Object, method string, params map[string]any, fn func(error)) error {
	return invokeAsync(o, method, params, func(out outcome) { fn(voidOf(out, out.error())) })
}

// callObjectAsync is callObject without waiting.
func callObjectAsync(o *Object, method string, params map[string]any, fn func(*Object, error)) error {
	return invokeAsync(o, method, params, func(out outcome) { fn(objectResult(out, out.error())) })
}

// callValueAsync is callValue without waiting.
func callValueAsync[T any](o *Object, method string, params map[string]any, wire string,
	read func(*jreader, T) T, fn func(T, error)) error {
	return invokeAsync(o, method, params, func(out outcome) {
		fn(valueOf(out, out.error(), method, wire, read))
	})
}

// callStructAsync is callStruct without waiting.
func callStructAsync[T any, P jsonReadable[T]](o *Object, method string, params map[string]any,
	fn func(*T, *Object, error)) error {
	return invokeAsync(o, method, params, func(out outcome) {
		fn(structOf[T, P](out, out.error(), method))
	})
}
