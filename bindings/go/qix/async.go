package qix

import (
	"encoding/binary"
	"encoding/json"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/libqix/libqix/bindings/go/internal/qixswig"
)

// Asynchronous calls (the package documentation says what users get): the call is issued at once
// (issueAsync) with the async flag, and its waiter is a function instead of a channel. The bridge hands a
// plain success to CallDone on the libqix thread that ran the completion (qixgoCallDone); the inbox takes
// every other outcome to the poll goroutine, which runs the function on a goroutine of its own (dispatch);
// Close runs the functions still waiting with ErrClosed, also each on a goroutine of its own.

func init() {
	qixswig.InboxReady = inboxReady
	qixswig.CallDone = callDone
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
	w, ok := s.takeWaiter(token)
	if !ok || w.fn == nil {
		return // taken by Close, which reports ErrClosed
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
	var i uint32
	if n := len(s.asyncFree); n > 0 {
		i = s.asyncFree[n-1]
		s.asyncFree = s.asyncFree[:n-1]
		s.asyncWaiters[i] = a
	} else {
		i = uint32(len(s.asyncWaiters))
		s.asyncWaiters = append(s.asyncWaiters, a)
	}
	s.mu.Unlock()
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
	var h [callHeader]byte
	if o != nil {
		o.mu.RLock()
		defer o.mu.RUnlock()
		if o.released {
			return errorf(ErrClosed, "the object was closed with Close")
		}
		binary.LittleEndian.PutUint64(h[0:], uint64(o.h.Swigcptr()))
	}
	binary.LittleEndian.PutUint64(h[8:], token)
	h[16] = 2 // async
	if raw {
		h[16] |= 1
	}
	binary.LittleEndian.PutUint32(h[20:], uint32(len(method)))
	binary.LittleEndian.PutUint32(h[24:], uint32(len(params)))
	bp := asyncBufs.Get().(*[]byte)
	buf := append((*bp)[:0], h[:]...)
	buf = append(buf, method...)
	buf = append(buf, 0)
	buf = append(buf, params...)
	buf = append(buf, 0)
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
