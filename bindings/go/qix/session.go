package qix

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"sync"
	"sync/atomic"

	"github.com/libqix/libqix/bindings/go/internal/qixswig"
)

// Session is one WebSocket connection to one engine app (the engine's proxy routes by the app in the
// URL, so a session opens at most one doc). Its methods are safe for concurrent use by many goroutines.
//
// Each session runs two goroutines of its own: one polls libqix (the C API's poll interface) and hands
// every event to the goroutine or channel waiting for it without ever blocking, and one runs user
// callbacks (WithTrafficLog) in order, recovering panics. libqix's threads (which Go starts for it) run
// no user code: they only wake the poll goroutine.
//
// Close the session when done: it stops both goroutines and releases the connection and every object
// obtained through it.
type Session struct {
	conn qixswig.Conn
	ev   qixswig.Event // the event holder of the poll goroutine (then of Close's final drain)
	buf  []byte        // the records buffer of the poll goroutine (then of Close's final drain): see drain

	// ready wakes the poll goroutine (room for one wake-up): the bridge sends to it (qixswig's
	// qixgoInboxReady, through goKey: this session's key, async.go's registerSession) whenever the inbox
	// gets events while empty. goKey is unregistered after the Conn, which is the last to use it.
	ready chan struct{}
	goKey uintptr

	// live is read-held by every goroutine that uses conn, and write-held by Close while it frees conn.
	live  sync.RWMutex
	freed bool // guarded by live (write)

	mu    sync.Mutex        // guards the maps, the asynchronous calls' table and the close details
	calls map[uint64]waiter // the waited-for calls (channels) by token
	// The asynchronous calls' functions, by token (asyncTokenBit | index: async.go), and the free indexes.
	asyncWaiters []asyncWaiter
	asyncFree    []uint32
	objects      map[uint64]*objectCore
	subs         map[uint64]*Subscription
	watches      map[uint64]*Watch
	closeCode    int
	closeReason  string

	tokens    atomic.Uint64 // Go's tokens (the bridge's object tokens have the top bit set)
	closed    chan struct{} // closed when the session's state becomes closed
	closeOnce sync.Once     // closes closed
	stopping  atomic.Bool   // tells the poll goroutine to return
	loopDone  chan struct{} // closed when the poll goroutine returned
	endOnce   sync.Once     // runs Close's work once

	traffic   func(sent bool, frame string)
	callbacks *runner

	// The send path (send.go): calls waiting to be issued, and whether someone holds the turn to issue them.
	sendMu    sync.Mutex
	sendQueue []queuedCall  // guarded by sendMu
	sendSpare []queuedCall  // the other queue array (guarded by sendMu)
	sending   bool          // guarded by sendMu
	sendBuf   []byte        // the calls' records; used by the turn's holder only
	answered  int           // answers the poll goroutine dispatched in its current drain (poll goroutine only)
	woken     atomic.Int64  // goroutines handed an answer that have not queued a call since (a hint: send.go)
	batches   atomic.Uint64 // batches issued (each one cgo call, its requests one write): for the tests

	// Gathering (async.go): while callsDone runs asynchronous calls' functions (gatherRuns of them at once),
	// the asynchronous calls made on this session wait in gathered until flushGathered issues them together.
	gatherRuns    int            // guarded by mu
	gathered      []gatheredCall // guarded by mu
	gatheredSpare []gatheredCall // the other array (guarded by mu)
	flushing      bool           // a flush is issuing calls taken from gathered (guarded by mu)
	gathering     atomic.Bool    // a hint, set under mu: gatherRuns, flushing or gathered calls
	flushMu       sync.Mutex     // one flush at a time, so that the gathered calls leave in order
	gatherBuf     []byte         // the flush's records (guarded by flushMu)
	gatherLocked  []*objectCore  // the objects a flush holds read-locked (guarded by flushMu)
	// For the tests: runs handed to callsDone, the answers in them, the calls flushGathered issued, and the
	// answers handed to callDone alone.
	asyncRuns, asyncRunAnswers, asyncGathered, asyncAlone atomic.Uint64
}

// outcome is what a call's waiter receives: the result, or the error.
type outcome struct {
	json json.RawMessage // the unwrapped result (qReturn, the single out value, or the whole result)
	raw  json.RawMessage // the engine's whole result object, for calls issued with raw (the typed API)
	obj  *objectCore
	err  *Error
}

// Dial connects to the engine at url, a complete ws:// or wss:// URL such as
// "ws://localhost:9076/app/engineData" or "wss://tenant.eu.qlikcloud.com/app/APP-ID", and returns
// once the WebSocket is open. Cancelling ctx (or its deadline) abandons the attempt: Dial then returns
// an *Error with Status ErrCancelled wrapping ctx.Err().
//
// Errors: ErrInvalid (a bad option), ErrNetwork, ErrTLS, ErrHTTP (Code is the HTTP status, e.g. 401),
// ErrTimeout (the option timeout.connect_ms), ErrCancelled.
func Dial(ctx context.Context, url string, opts ...Option) (*Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, cancelled(err)
	}
	cfg := config{onPanic: defaultPanicHandler}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.onPanic == nil {
		cfg.onPanic = defaultPanicHandler
	}
	s := &Session{
		conn:      qixswig.NewConn(),
		ev:        qixswig.NewEvent(),
		buf:       make([]byte, recordsBuffer),
		ready:     make(chan struct{}, 1),
		calls:     make(map[uint64]waiter),
		objects:   make(map[uint64]*objectCore),
		subs:      make(map[uint64]*Subscription),
		watches:   make(map[uint64]*Watch),
		closed:    make(chan struct{}),
		loopDone:  make(chan struct{}),
		traffic:   cfg.traffic,
		callbacks: newRunner(cfg.onPanic),
	}
	if err := s.configure(url, &cfg); err != nil {
		s.discard()
		return nil, err
	}
	opened := make(chan outcome, 1)
	openToken := s.register(opened, false)
	s.goKey = registerSession(s)
	if err := takeError(s.conn.Open(openToken, s.tokens.Add(1), uint64(s.goKey))); err != nil {
		s.discard()
		return nil, err
	}
	go s.pollLoop()
	handOverHere() // Dial from an asynchronous call's function: the open must not wait for it
	select {
	case out := <-opened:
		if out.err != nil {
			s.Close()
			return nil, out.err
		}
		return s, nil
	case <-ctx.Done():
		s.Close()
		return nil, cancelled(ctx.Err())
	}
}

// configure hands url and the options to the bridge; the first failure wins.
func (s *Session) configure(url string, cfg *config) error {
	if err := takeError(s.conn.SetStr("url", url)); err != nil {
		return err
	}
	for _, st := range cfg.settings {
		var e qixswig.Error
		switch v := st.value.(type) {
		case string:
			e = s.conn.SetStr(st.name, v)
		case bool:
			if v && st.name == "events.poll" {
				return errorf(ErrInvalid, "option events.poll is not supported by the Go binding: libqix's "+
					"threads deliver its events (to the session's poll goroutine, or to asynchronous calls' functions)")
			}
			e = s.conn.SetBool(st.name, v)
		case int64:
			e = s.conn.SetInt(st.name, v)
		default:
			return errorf(ErrInvalid, "option %q: unsupported value type %T", st.name, st.value)
		}
		if err := takeError(e); err != nil {
			return err
		}
	}
	for _, h := range cfg.headers {
		if err := takeError(s.conn.AddHeader(h[0], h[1])); err != nil {
			return err
		}
	}
	for _, c := range cfg.cookies {
		if err := takeError(s.conn.AddCookie(c[0], c[1])); err != nil {
			return err
		}
	}
	if s.traffic != nil {
		return takeError(s.conn.LogTraffic(s.tokens.Add(1)))
	}
	return nil
}

// discard frees a session that never started polling.
func (s *Session) discard() {
	qixswig.DeleteConn(s.conn)
	qixswig.DeleteEvent(s.ev)
	if s.goKey != 0 {
		unregisterSession(s.goKey)
	}
	s.callbacks.stop()
}

// waiter is who waits for a call's outcome: its channel (room for one outcome) or, for an asynchronous
// call, its function (async.go), and whether it wants the engine's whole result object (the typed API)
// instead of the unwrapped one.
type waiter struct {
	ch  chan outcome
	fn  func(outcome)
	raw bool
}

// register makes ch the waiter of a new token.
func (s *Session) register(ch chan outcome, raw bool) uint64 {
	t := s.tokens.Add(1)
	s.mu.Lock()
	s.calls[t] = waiter{ch: ch, raw: raw}
	s.mu.Unlock()
	return t
}

// pollLoop is the session's poll goroutine: each time the bridge says the inbox has events (a wake-up on
// s.ready, sent from libqix's thread that ran the session's callbacks: qixswig's qixgoInboxReady), it
// dispatches them, until Close stops it (Close sets stopping, then wakes it). Between wake-ups it is
// parked on the channel: no OS thread waits for it, and a burst of answers costs one wake-up. A wake-up
// that arrives while it drains makes it drain once more, so none is lost: the bridge wakes it again for
// whatever arrives after a drain emptied the inbox.
func (s *Session) pollLoop() {
	defer close(s.loopDone)
	for range s.ready {
		s.drainAndSend()
		if s.stopping.Load() {
			return
		}
	}
}

// drainAndSend is the poll goroutine's drain: when it dispatched answers, the next calls of the
// goroutines it woke leave together (flushAfterAnswers).
func (s *Session) drainAndSend() {
	s.answered = 0
	s.drain()
	if s.answered > 0 {
		s.flushAfterAnswers()
	}
}

// recordsBuffer is the size of the buffer that drain takes events into, many per cgo call: about a hundred
// small answers; a larger result takes the event holder (a variable for the tests: SetRecordsBuffer).
var recordsBuffer = 8 << 10

// drain dispatches every event in the bridge's inbox, in order: the plain ones (successful results
// without object, changed, object closed) many per cgo call as records (Conn.Take), the others (and a
// result larger than the buffer) one by one through the event holder (Conn.Next and its getters).
func (s *Session) drain() {
	for {
		n := s.conn.Take(s.buf)
		if n > 0 {
			s.dispatchRecords(s.buf[:n])
			continue
		}
		if n < 0 || !s.conn.Next(s.ev) {
			return
		}
		s.dispatch(s.ev)
	}
}

// recordHeader is the size of a record's header (Conn::take in bridge.hpp): kind (4 bytes, little-endian,
// the top 3 zero), the body's length (4 bytes), the token (8 bytes); the body follows.
const recordHeader = 16

// dispatchRecords dispatches the records Conn.Take wrote into b (see bridge.hpp, Conn::take). It never
// blocks, as dispatch.
func (s *Session) dispatchRecords(b []byte) {
	for len(b) >= recordHeader {
		kind := qixswig.QixgoEventKind(binary.LittleEndian.Uint32(b))
		n := int(binary.LittleEndian.Uint32(b[4:]))
		token := binary.LittleEndian.Uint64(b[8:])
		body := b[recordHeader : recordHeader+n]
		b = b[recordHeader+n:]
		switch kind {
		case qixswig.EVENT_RESULT:
			w, _ := s.takeWaiter(token)
			if w.ch == nil && w.fn == nil {
				continue
			}
			text := json.RawMessage(append(make([]byte, 0, len(body)), body...)) // body is the buffer's
			out := outcome{json: text}
			if w.raw {
				out = outcome{raw: text}
			}
			if w.ch == nil {
				go w.fn(out) // an asynchronous call's (its plain successes normally skip the inbox)
				continue
			}
			s.answered++
			s.handedAnswer()
			w.ch <- out
		case qixswig.EVENT_CHANGED:
			if o := s.object(token); o != nil {
				o.signalChanged()
			}
		case qixswig.EVENT_OBJECT_CLOSED:
			if o := s.object(token); o != nil {
				o.markClosed()
			}
		}
	}
}

// dispatch hands one event on. It never blocks: waiters' channels have room for their one outcome,
// change signals are coalesced, notifications and callbacks go to unbounded queues.
func (s *Session) dispatch(ev qixswig.Event) {
	kind := qixswig.QixgoEventKind(ev.Kind())
	switch kind {
	case qixswig.EVENT_OPENED, qixswig.EVENT_RESULT:
		w, _ := s.takeWaiter(ev.Token())
		ch, raw := w.ch, w.raw
		var out outcome
		if ev.Status() != 0 {
			out.err = newError(ev.Error())
			if kind == qixswig.EVENT_OPENED {
				// A failed open is the end of the session, whether or not the state listener (registered
				// just after the open started) saw it.
				s.markClosed(1006, out.err.Message)
			}
		} else if !raw {
			out.json = json.RawMessage(ev.Json())
		}
		if raw {
			// Also with a status: QIX_ENOTFOUND (an object result that refers to none) has a result.
			out.raw = json.RawMessage(ev.Raw())
		}
		if ev.HasObject() {
			out.obj = s.adopt(ev.TakeObject(), ev.ObjectToken())
		}
		if ch != nil {
			s.answered++
			s.handedAnswer()
			ch <- out
		} else if w.fn != nil {
			// An asynchronous call's failure or object result: its function runs on a goroutine of its own
			// (it may block; the poll goroutine never waits for it).
			go w.fn(out)
		} else if out.obj != nil {
			go out.obj.release() // nobody waits (cannot happen today); not here: Close may hold s.live
		}
	case qixswig.EVENT_LAYOUT:
		s.mu.Lock()
		w := s.watches[ev.Token()]
		s.mu.Unlock()
		if w != nil {
			if ev.Status() != 0 {
				w.push(LayoutUpdate{Err: newError(ev.Error())})
			} else {
				w.push(LayoutUpdate{Layout: json.RawMessage(ev.Json())})
			}
		}
	case qixswig.EVENT_CHANGED:
		if o := s.object(ev.Token()); o != nil {
			o.signalChanged()
		}
	case qixswig.EVENT_OBJECT_CLOSED:
		if o := s.object(ev.Token()); o != nil {
			o.markClosed()
		}
	case qixswig.EVENT_STATE:
		if ev.State() == int(qixswig.QIX_STATE_CLOSED) {
			s.markClosed(ev.CloseCode(), ev.Text())
		}
	case qixswig.EVENT_NOTIFICATION:
		s.mu.Lock()
		sub := s.subs[ev.Token()]
		s.mu.Unlock()
		if sub != nil {
			sub.push(Notification{Method: ev.Text(), Params: json.RawMessage(ev.Params())})
		}
	case qixswig.EVENT_TRAFFIC:
		if fn := s.traffic; fn != nil {
			sent, frame := ev.Sent(), ev.Text()
			s.callbacks.post(func() { fn(sent, frame) })
		}
	}
}

// markClosed records why the session ended (the first report wins) and closes Closed().
func (s *Session) markClosed(code int, reason string) {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closeCode, s.closeReason = code, reason
		s.mu.Unlock()
		close(s.closed)
	})
}

// Closed returns a channel that is closed when the session ends: by Close, by the engine, or because
// the connection was lost. CloseInfo then tells why.
func (s *Session) Closed() <-chan struct{} { return s.closed }

// CloseInfo reports why the session ended: the WebSocket close code (1000 after Close; 1006 when the
// connection dropped without a close frame; 4000-4007 for the engine's own reasons) and the reason
// text. ok is false while the session is open.
func (s *Session) CloseInfo() (code int, reason string, ok bool) {
	select {
	case <-s.closed:
	default:
		return 0, "", false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closeCode, s.closeReason, true
}

// PendingCalls is the number of calls waiting for the engine's answer.
func (s *Session) PendingCalls() int {
	s.live.RLock()
	defer s.live.RUnlock()
	if s.freed {
		return 0
	}
	return int(s.conn.PendingCalls())
}

// Call sends method to the engine's Global object and waits for the answer. params are the
// method's parameters: a slice (by position), a map or struct (by name), json.RawMessage or []byte
// holding JSON, or nil for none. The result is unwrapped as enigma.js does (qReturn, else the single
// out value, else the whole result).
//
// When ctx ends first, the engine is asked to stop (CancelRequest) and Call returns an *Error with
// Status ErrCancelled that wraps ctx.Err(); if the answer won the race, Call returns it. Other errors:
// ErrEngine, ErrClosed, ErrConnection, ErrTimeout, ErrInvalid (params that are not a JSON array or
// object).
func (s *Session) Call(ctx context.Context, method string, params any) (json.RawMessage, error) {
	out, err := s.call(ctx, nil, method, params)
	if out.obj != nil {
		out.obj.release()
	}
	return out.json, err
}

// CallObject is Call for methods that return an object (GetActiveDoc, CreateSessionApp ...): it
// returns the object. ErrNotFound when the answer refers to no object (e.g. qHandle null).
func (s *Session) CallObject(ctx context.Context, method string, params any) (*Object, error) {
	return objectOf(s.call(ctx, nil, method, params))
}

// OpenDoc opens the app appID (OpenDoc) and returns the Doc object.
func (s *Session) OpenDoc(ctx context.Context, appID string) (*Object, error) {
	return s.CallObject(ctx, "OpenDoc", []string{appID})
}

// Global returns a handle to the engine's Global object (handle -1), typed: every method of the Engine
// API's Global class (see "Typed API" in docs/go.md). It embeds *Object, so Call, CallObject, Close and
// the rest work on it too; g.Object is the untyped handle.
func (s *Session) Global() (*Global, error) {
	s.live.RLock()
	defer s.live.RUnlock()
	if s.freed {
		return nil, errorf(ErrClosed, "the session is closed")
	}
	h := s.conn.Global()
	if h == nil || h.Swigcptr() == 0 {
		return nil, errorf(ErrClosed, "the session is closed")
	}
	return &Global{newObject(s.adopt(h, s.conn.Attach(h)))}, nil
}

// call issues one call (on Global when o is nil) and waits for its outcome (the unwrapped result).
func (s *Session) call(ctx context.Context, o *objectCore, method string, params any) (outcome, error) {
	return s.callFor(ctx, o, method, params, false)
}

// callFor is call; with raw, the outcome holds the engine's whole result object instead (out.raw).
func (s *Session) callFor(ctx context.Context, o *objectCore, method string, params any, raw bool) (outcome, error) {
	if err := ctx.Err(); err != nil {
		return outcome{}, cancelled(err)
	}
	text, err := encodeParams(params)
	if err != nil {
		return outcome{}, err
	}
	slot := slots.Get().(*callSlot)
	ch := slot.ch
	token := s.register(ch, raw)
	if err := s.enqueue(o, method, text, token, raw, slot); err != nil {
		s.mu.Lock()
		delete(s.calls, token)
		s.mu.Unlock()
		// slot is not recycled: a Close that took the waiters before the delete still sends it ErrClosed.
		return outcome{}, err
	}
	// Queued: the call's one outcome arrives on ch and is taken below, which leaves ch empty for reuse.
	handOverHere() // from an asynchronous call's function: the answer must not wait for it
	var out outcome
	done := ctx.Done()
	if done == nil { // a context that never ends (Background): a plain receive is cheaper than a select
		out = <-ch
		s.recycle(slot)
		if out.err != nil {
			return out, out.err
		}
		return out, nil
	}
	select {
	case out = <-ch:
	case <-done:
		if !s.cancelSlot(slot) {
			// Never issued (taken out of the queue): no outcome comes, unless Close took the waiter first.
			s.mu.Lock()
			_, waiting := s.calls[token]
			delete(s.calls, token)
			s.mu.Unlock()
			if !waiting {
				// Close took the waiters: its ErrClosed is on ch (or on its way); slot is not recycled.
				return outcome{}, cancelled(ctx.Err())
			}
			slots.Put(slot) // out of the queue, never issued: nothing refers to it any more
			return outcome{}, cancelled(ctx.Err())
		}
		// Every issued call completes exactly once: with ErrCancelled, or with the answer if it won the
		// race (or ErrClosed from Close).
		out = <-ch
		if out.err != nil && out.err.Status == ErrCancelled {
			out.err.cause = ctx.Err()
		}
	}
	s.recycle(slot)
	if out.err != nil {
		return out, out.err
	}
	return out, nil
}

func (s *Session) cancel(id int64) {
	if id == 0 {
		return
	}
	s.live.RLock()
	defer s.live.RUnlock()
	if !s.freed {
		s.conn.Cancel(id)
	}
}

// Close closes the connection (WebSocket code 1000) and releases everything: calls still waiting fail
// with ErrClosed, objects become closed (their Closed channels close), notification channels close,
// and the session's goroutines end. It waits for the close handshake (bounded by the handshake and
// keep-alive timeouts) and for every event before the session's end to be delivered. Closing again is
// a no-op; Close always returns nil (it has the error result of io.Closer).
func (s *Session) Close() error {
	s.endOnce.Do(s.end)
	return nil
}

func (s *Session) end() {
	// From an asynchronous call's function: the closing events must not wait for it to return.
	handOverHere()
	s.live.RLock()
	s.conn.Close()
	// libqix's one "closed and drained" signal: the closed state event and every event before it have run
	// (their copies are in the inbox, which the poll loop goes on draining meanwhile). The close handshake
	// is bounded by the session's handshake and keep-alive timeouts.
	s.conn.WaitClosed(-1)
	s.live.RUnlock()
	s.stopping.Store(true)
	inboxReady(s.goKey) // the poll goroutine looks once more, sees stopping and returns
	<-s.loopDone

	s.live.Lock()
	// Last events (completions queued with the closed state), then the objects, then the connection.
	s.drain()
	s.mu.Lock()
	objects := s.objects
	s.objects = map[uint64]*objectCore{}
	calls := s.calls
	s.calls = map[uint64]waiter{}
	asyncs := s.asyncWaiters
	s.asyncWaiters, s.asyncFree = nil, nil
	subs := s.subs
	s.subs = map[uint64]*Subscription{}
	s.mu.Unlock()
	for _, o := range objects {
		o.free()
	}
	qixswig.DeleteConn(s.conn)
	qixswig.DeleteEvent(s.ev)
	unregisterSession(s.goKey) // after the Conn: the bridge does not call Go for it any more
	s.freed = true
	s.live.Unlock()

	s.markClosed(1000, "closed by the client")
	closedErr := func() *Error { return errorf(ErrClosed, "the session was closed") }
	for _, w := range calls {
		if w.ch != nil {
			w.ch <- outcome{err: closedErr()}
		}
	}
	for _, a := range asyncs {
		if a.fn != nil {
			go a.fn(outcome{err: closedErr()})
		}
	}
	for _, sub := range subs {
		sub.end()
	}
	s.callbacks.stop()
}

// object finds the live object with this token.
func (s *Session) object(token uint64) *objectCore {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.objects[token]
}

// encodeParams turns Call's params into JSON text.
func encodeParams(params any) (string, error) {
	switch p := params.(type) {
	case nil:
		return "[]", nil
	case json.RawMessage:
		return string(p), nil
	case []byte:
		return string(p), nil
	}
	b, err := json.Marshal(params)
	if err != nil {
		return "", &Error{Status: ErrInvalid, Message: "params: " + err.Error()}
	}
	return string(b), nil
}

func cancelled(cause error) *Error {
	return &Error{Status: ErrCancelled, Message: "the context ended", cause: cause}
}
