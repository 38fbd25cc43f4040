package qix

import (
	"encoding/json"
	"sync"
)

// Notification is a message the engine sent without being asked (a JSON-RPC notification), e.g.
// OnConnected with {"qSessionState":"SESSION_CREATED"}.
type Notification struct {
	Method string
	Params json.RawMessage
}

// Subscription delivers notifications on C, oldest first, starting with those the session received
// before the subscription (libqix keeps a history: OnConnected arrives before anyone can subscribe).
// Delivery never blocks the session: notifications wait in the subscription's own queue until read.
// C is closed after Close, or when the session is closed.
type Subscription struct {
	C <-chan Notification

	s         *Session
	token     uint64
	listeners []uint64
	c         chan Notification
	queue     *fifo[Notification]
	done      chan struct{}
	endOnce   sync.Once
}

// Notifications subscribes to the notifications named in methods (every notification when none is
// given). Close the subscription when done; the session's Close closes it too.
func (s *Session) Notifications(methods ...string) (*Subscription, error) {
	if len(methods) == 0 {
		methods = []string{""}
	}
	c := make(chan Notification)
	sub := &Subscription{C: c, s: s, token: s.tokens.Add(1), c: c, queue: newFifo[Notification](),
		done: make(chan struct{})}
	s.live.RLock()
	defer s.live.RUnlock()
	if s.freed {
		return nil, errorf(ErrClosed, "the session is closed")
	}
	s.mu.Lock()
	s.subs[sub.token] = sub
	s.mu.Unlock()
	for _, m := range methods {
		id := s.conn.OnNotification(m, sub.token)
		if id == 0 {
			sub.unsubscribeLocked()
			sub.end()
			return nil, errorf(ErrInvalid, "cannot subscribe to notifications %q", m)
		}
		sub.listeners = append(sub.listeners, id)
	}
	go sub.forward()
	return sub, nil
}

// Close ends the subscription: C is closed; notifications not read yet are dropped. Closing again is
// a no-op; Close always returns nil.
func (sub *Subscription) Close() error {
	s := sub.s
	s.live.RLock()
	if !s.freed {
		sub.unsubscribeLocked()
	}
	s.live.RUnlock()
	sub.end()
	return nil
}

// unsubscribeLocked removes the C listeners (the caller holds s.live and the session is not freed).
func (sub *Subscription) unsubscribeLocked() {
	s := sub.s
	s.mu.Lock()
	delete(s.subs, sub.token)
	ids := sub.listeners
	sub.listeners = nil
	s.mu.Unlock()
	for _, id := range ids {
		s.conn.RemoveListener(id)
	}
}

// push queues n (called by the poll goroutine; never blocks).
func (sub *Subscription) push(n Notification) { sub.queue.push(n) }

// end stops the forwarding goroutine, which closes C.
func (sub *Subscription) end() {
	sub.endOnce.Do(func() { close(sub.done) })
}

// forward moves queued notifications to C as the reader takes them.
func (sub *Subscription) forward() {
	defer close(sub.c)
	for {
		for _, n := range sub.queue.take() {
			select {
			case sub.c <- n:
			case <-sub.done:
				return
			}
		}
		select {
		case <-sub.queue.wake:
		case <-sub.done:
			return
		}
	}
}

// fifo is an unbounded queue for one consumer: push never blocks and signals wake (capacity 1, so
// signals coalesce); the consumer takes everything queued at once.
type fifo[T any] struct {
	mu    sync.Mutex
	items []T
	wake  chan struct{}
}

func newFifo[T any]() *fifo[T] { return &fifo[T]{wake: make(chan struct{}, 1)} }

func (q *fifo[T]) push(v T) {
	q.mu.Lock()
	q.items = append(q.items, v)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *fifo[T]) take() []T {
	q.mu.Lock()
	defer q.mu.Unlock()
	items := q.items
	q.items = nil
	return items
}

// runner runs a session's user callbacks on one goroutine, in order, recovering panics. Posting never
// blocks (the queue is unbounded), so a slow callback delays only later callbacks.
type runner struct {
	onPanic func(any)
	queue   *fifo[func()]
	done    chan struct{}
	stopped sync.Once
	started sync.Once
}

func newRunner(onPanic func(any)) *runner {
	return &runner{onPanic: onPanic, queue: newFifo[func()](), done: make(chan struct{})}
}

func (r *runner) post(fn func()) {
	r.started.Do(func() { go r.loop() })
	r.queue.push(fn)
}

// stop ends the goroutine after the callbacks already posted have run.
func (r *runner) stop() { r.stopped.Do(func() { close(r.done) }) }

func (r *runner) loop() {
	for {
		for _, fn := range r.queue.take() {
			r.run(fn)
		}
		select {
		case <-r.queue.wake:
		case <-r.done:
			for _, fn := range r.queue.take() {
				r.run(fn)
			}
			return
		}
	}
}

func (r *runner) run(fn func()) {
	defer func() {
		if p := recover(); p != nil {
			r.reportPanic(p)
		}
	}()
	fn()
}

// reportPanic hands p to the panic handler; a handler that panics itself is not allowed to crash the
// program either.
func (r *runner) reportPanic(p any) {
	defer func() { _ = recover() }()
	r.onPanic(p)
}
