package qix

import (
	"runtime"

	"github.com/libqix/libqix/bindings/go/internal/qixswig"
)

// TrackedObjects is the number of object handles the session holds (for the tests in package qix_test).
func TrackedObjects(s *Session) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.objects)
}

// TrackedClosed is the Closed channel of each object handle the session tracks, by token (for the tests in
// package qix_test: a handle released by its Object's finalizer closes its channel). It refers to the
// handles' bookkeeping only, never to the Objects, so it keeps no Object reachable.
func TrackedClosed(s *Session) map[uint64]<-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	closed := make(map[uint64]<-chan struct{}, len(s.objects))
	for token, o := range s.objects {
		closed[token] = o.closed
	}
	return closed
}

// Member is the typed API's reader of one top-level member of a result (for the tests in package qix_test).
func Member(raw []byte, wire string) (value []byte, found, scanned bool) {
	return member(raw, wire)
}

// SetRecordsBuffer sets the size of the records buffer of the sessions dialled from now on, and returns a
// function that restores the default (for the tests in package qix_test: results larger than the buffer
// take the bridge's event holder, smaller ones come as records, in one stream).
func SetRecordsBuffer(n int) (restore func()) {
	old := recordsBuffer
	recordsBuffer = n
	return func() { recordsBuffer = old }
}

// HoldSendTurn takes the turn to issue calls (send.go), so that the calls made meanwhile stay queued, and
// returns the function that issues them and gives the turn back (for the tests in package qix_test).
func HoldSendTurn(s *Session) (release func()) {
	for {
		s.sendMu.Lock()
		if !s.sending {
			s.sending = true
			s.sendMu.Unlock()
			return s.issueQueued
		}
		s.sendMu.Unlock()
		runtime.Gosched() // someone is issuing: the turn comes back when the queue is empty
	}
}

// QueuedCalls is the number of calls waiting to be issued (for the tests in package qix_test).
func QueuedCalls(s *Session) int {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	return len(s.sendQueue)
}

// SetWoken sets the session's count of goroutines handed an answer that have not made a call since (send.go,
// gather), for the tests in package qix_test.
func SetWoken(s *Session, n int64) {
	s.woken.Store(n)
}

// IssuedBatches is the number of batches of calls the session has issued (for the tests in package qix_test).
func IssuedBatches(s *Session) uint64 {
	return s.batches.Load()
}

// SetReadyHook sets the function called each time libqix wakes a poll goroutine, with whether the wake-up
// came from one of libqix's threads that Go started (for the tests in package qix_test; nil removes it).
func SetReadyHook(fn func(fromLibqixThread bool)) { qixswig.SetReadyHook(fn) }

// OnLibqixThread tells whether the caller runs on one of libqix's threads that Go started (Linux only: false
// elsewhere), for the tests in package qix_test.
func OnLibqixThread() bool { return qixswig.OnLibqixThread() }

// AsyncCounts is what the session's asynchronous calls went through (for the tests in package qix_test):
// runs of answers handed over together (callsDone), the answers in them, the calls gathered meanwhile and
// issued together (flushGathered), and the answers handed over alone (callDone).
func AsyncCounts(s *Session) (runs, runAnswers, gathered, alone uint64) {
	return s.asyncRuns.Load(), s.asyncRunAnswers.Load(), s.asyncGathered.Load(), s.asyncAlone.Load()
}
