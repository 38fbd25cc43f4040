package qix

import (
	"encoding/binary"
	"runtime"
	"sync"

	"github.com/libqix/libqix/bindings/go/internal/qixswig"
)

// The send path. A call is queued (with its locks held: the session's live read lock and its object's,
// so that neither is freed before it is issued) and issued by whoever holds the queue's turn (sending),
// many calls in one cgo call whose requests leave in one write (qixswig.CallBatch: qix_batch_begin/end):
//
//   - a goroutine that queues a call while nobody holds the turn takes it and issues at once (a lone call
//     goes out without delay), unless other goroutines were handed answers since they last made a call
//     (Session.woken): then it first yields while each yield brings more calls (gather), so that the ones
//     that run on its P next join its write instead of each making its own (at window 64 half the writes);
//   - the poll goroutine, after it dispatched answers (which made their goroutines runnable), takes the turn
//     and yields (runtime.Gosched) before it issues, until about as many calls are queued (while each
//     yield brings more, a few times at most): the goroutines it woke run meanwhile, and the next calls
//     they make join the queue and leave together, as the calls a C callback makes do.
//
// Whoever holds the turn issues until the queue is empty, then gives the turn back.

// callSlot is one call's rendezvous with the issuer and the poll goroutine (recycled through slots).
type callSlot struct {
	ch chan outcome // room for the call's one outcome

	// guarded by Session.sendMu
	state  slotState
	id     int64 // the request id once issued (0: failed at once; its outcome is on its way)
	cancel bool  // the caller's context ended while the call was being issued: cancel it once issued
}

type slotState uint8

const (
	slotQueued slotState = iota // in the queue
	slotTaken                   // being issued
	slotIssued                  // issued (id is set)
)

var slots = sync.Pool{New: func() any { return &callSlot{ch: make(chan outcome, 1)} }}

// recycle returns the slot of a call whose outcome was taken (its channel is empty again) for reuse, unless
// its issuer may still write to it: the answer can arrive before the issuer has recorded the request id.
func (s *Session) recycle(slot *callSlot) {
	s.sendMu.Lock()
	issued := slot.state == slotIssued
	s.sendMu.Unlock()
	if issued {
		slots.Put(slot)
	}
}

// queuedCall is one call waiting in the queue.
type queuedCall struct {
	o      *objectCore // nil: Global
	method string
	params string
	token  uint64
	raw    bool
	slot   *callSlot
}

// callHeader is the size of a call record's header (Conn::call_batch in bridge.hpp).
const callHeader = 32

// appendCallRecord appends a call's record for qixswig.CallBatch (Conn::call_batch in bridge.hpp): obj is
// the object's C++ handle (0: Global), raw asks for the engine's whole result object, async sends a plain
// success to qixgoCallDone/qixgoCallsDone instead of the inbox.
func appendCallRecord(buf []byte, obj, token uint64, raw, async bool, method, params string) []byte {
	var h [callHeader]byte
	binary.LittleEndian.PutUint64(h[0:], obj)
	binary.LittleEndian.PutUint64(h[8:], token)
	if raw {
		h[16] |= 1
	}
	if async {
		h[16] |= 2
	}
	binary.LittleEndian.PutUint32(h[20:], uint32(len(method)))
	binary.LittleEndian.PutUint32(h[24:], uint32(len(params)))
	buf = append(buf, h[:]...)
	buf = append(buf, method...)
	buf = append(buf, 0)
	buf = append(buf, params...)
	return append(buf, 0)
}

// enqueue queues a call, or fails at once when the session or the object is closed. On success the
// session's (and the object's) read locks stay held until the call is issued (release).
// It never waits for Close: while Close frees the session (the one writer of live) the call fails at once.
func (s *Session) enqueue(o *objectCore, method, params string, token uint64, raw bool, slot *callSlot) error {
	if s.gathering.Load() {
		s.flushGathered() // the asynchronous calls gathered before this one leave first
	}
	if !s.live.TryRLock() {
		return errorf(ErrClosed, "the session is closed")
	}
	if s.freed {
		s.live.RUnlock()
		return errorf(ErrClosed, "the session is closed")
	}
	if o != nil {
		o.mu.RLock()
		if o.released {
			o.mu.RUnlock()
			s.live.RUnlock()
			return errorf(ErrClosed, "the object was closed with Close")
		}
	}
	slot.state, slot.id, slot.cancel = slotQueued, 0, false
	s.sendMu.Lock()
	s.sendQueue = append(s.sendQueue, queuedCall{o: o, method: method, params: params, token: token, raw: raw, slot: slot})
	s.tookAnswer()
	if s.sending {
		s.sendMu.Unlock()
		return nil
	}
	s.sending = true
	followers := s.woken.Load() > 0
	queued := len(s.sendQueue)
	s.sendMu.Unlock()
	if followers {
		s.gather(0, queued)
	}
	s.issueQueued()
	return nil
}

// release drops the read locks a queued call held.
func (s *Session) release(c *queuedCall) {
	if c.o != nil {
		c.o.mu.RUnlock()
	}
	s.live.RUnlock()
}

// flushAfterAnswers is the poll goroutine's turn after it dispatched answers: it lets the goroutines it
// woke queue their next calls, then issues them together.
func (s *Session) flushAfterAnswers() {
	s.sendMu.Lock()
	if s.sending {
		s.sendMu.Unlock()
		return
	}
	s.sending = true
	s.sendMu.Unlock()
	// Yield until as many calls are queued as answers were handed on (each woken goroutine typically makes
	// its next call), while each yield brings more, a few times at most: a goroutine that makes no further
	// call, or runs on another P, is not waited for (it issues its call itself once the turn is given back).
	s.gather(s.answered, -1)
	s.issueQueued()
}

// gather is the turn's holder yielding (runtime.Gosched) before it issues, so that goroutines runnable on its
// P queue their calls first: until want calls are queued (want > 0), while each yield brings more (queued
// calls before the first yield: before), maxYields times at most.
func (s *Session) gather(want, before int) {
	for i := 0; i < maxYields; i++ {
		runtime.Gosched()
		s.sendMu.Lock()
		queued := len(s.sendQueue)
		s.sendMu.Unlock()
		if (want > 0 && queued >= want) || queued == before {
			return
		}
		before = queued
	}
}

// maxYields bounds the yields of gather.
const maxYields = 8

// handedAnswer counts a goroutine handed an answer (the poll goroutine, after counting it in answered and
// before the hand-off): it is likely to make its next call now (Session.woken). A drain's first answer
// starts the count afresh: what is left of an earlier drain's are goroutines that made no further call.
func (s *Session) handedAnswer() {
	if s.answered == 1 {
		s.woken.Store(1)
		return
	}
	s.woken.Add(1)
}

// tookAnswer counts down Session.woken for a call queued (never below zero). Goroutines that make no further
// call leave it high until the next calls count it down or the next answers start it afresh (handedAnswer),
// which costs a lone call meanwhile one yield.
func (s *Session) tookAnswer() {
	for {
		n := s.woken.Load()
		if n <= 0 || s.woken.CompareAndSwap(n, n-1) {
			return
		}
	}
}

// issueQueued issues the queued calls until the queue is empty, then gives the turn back. The caller holds
// the turn (sending).
func (s *Session) issueQueued() {
	for {
		s.sendMu.Lock()
		batch := s.sendQueue
		if len(batch) == 0 {
			s.sending = false
			s.sendMu.Unlock()
			return
		}
		s.sendQueue = s.sendSpare[:0]
		for i := range batch {
			batch[i].slot.state = slotTaken
		}
		s.sendMu.Unlock()

		buf := s.sendBuf[:0]
		for i := range batch {
			c := &batch[i]
			var obj uint64
			if c.o != nil {
				obj = uint64(c.o.h.Swigcptr())
			}
			buf = appendCallRecord(buf, obj, c.token, c.raw, false, c.method, c.params)
		}
		qixswig.CallBatch(s.conn, buf)
		s.batches.Add(1)

		var cancels []int64
		s.sendMu.Lock()
		at := 0
		for i := range batch {
			c := &batch[i]
			c.slot.id = int64(binary.LittleEndian.Uint64(buf[at:]))
			c.slot.state = slotIssued
			if c.slot.cancel && c.slot.id != 0 {
				cancels = append(cancels, c.slot.id)
			}
			at += callHeader + len(c.method) + 1 + len(c.params) + 1
		}
		s.sendMu.Unlock()
		for _, id := range cancels {
			s.conn.Cancel(id) // the session's read lock is still held (by the calls)
		}
		for i := range batch {
			s.release(&batch[i])
			batch[i] = queuedCall{}
		}
		if cap(buf) <= maxKeptSendBuffer {
			s.sendBuf = buf[:0]
		} else {
			s.sendBuf = nil
		}
		s.sendMu.Lock()
		s.sendSpare = batch[:0]
		s.sendMu.Unlock()
	}
}

// maxKeptSendBuffer bounds the encoding buffer kept between batches (a call with large params does not pin
// its size).
const maxKeptSendBuffer = 64 << 10

// cancelSlot asks the engine to stop the call of slot (its caller's context ended). A call still queued is
// taken out and never issued: it reports false, and its caller completes it (no outcome will come). Else
// it reports true: the outcome comes (ErrCancelled, or the answer if it won the race).
func (s *Session) cancelSlot(slot *callSlot) bool {
	s.sendMu.Lock()
	switch slot.state {
	case slotQueued:
		for i := range s.sendQueue {
			if s.sendQueue[i].slot == slot {
				c := s.sendQueue[i]
				s.sendQueue = append(s.sendQueue[:i], s.sendQueue[i+1:]...)
				s.sendMu.Unlock()
				s.release(&c)
				return false
			}
		}
		s.sendMu.Unlock()
		return true // cannot happen: a queued slot is in the queue
	case slotTaken:
		slot.cancel = true // the issuer cancels it once it has its id
		s.sendMu.Unlock()
		return true
	}
	id := slot.id
	s.sendMu.Unlock()
	s.cancel(id)
	return true
}
