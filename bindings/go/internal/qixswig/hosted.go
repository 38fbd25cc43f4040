package qixswig

// libqix's threads, started by Go, and the calls from C into Go (see bridge.hpp): a session's "drain your
// inbox" and "your asynchronous call is answered". Hand-written, next to the SWIG output of this package.

/*
#include <stdint.h>
#include <stddef.h>
void qixgo_run_thread_body(uintptr_t body, uintptr_t arg);
int qixgo_hand_over_here(void);
*/
import "C"

import (
	"runtime"
	"runtime/cgo"
	"sync"
	"sync/atomic"
	"unsafe"
)

// libqixThreads holds the OS thread ids (threadID) of the threads started by qixgoStartThread, for the
// tests (SetReadyHook); empty where threadID is not known.
var libqixThreads sync.Map

// readyHook, when set, is called by qixgoInboxReady with whether its caller is one of libqix's threads that
// Go started (for the tests: answers must wake the poll goroutine from those threads, where calling Go is
// cheap).
var readyHook atomic.Pointer[func(fromLibqixThread bool)]

// SetReadyHook sets (nil: removes) the function qixgoInboxReady calls with whether it runs on one of
// libqix's threads that Go started (known on Linux only: false elsewhere). For the tests.
func SetReadyHook(fn func(fromLibqixThread bool)) {
	if fn == nil {
		readyHook.Store(nil)
		return
	}
	readyHook.Store(&fn)
}

// qixgoStartThread starts one of libqix's threads for the binding's context (qix_context_new_hosted; the
// bridge's go_context): a goroutine locked to its OS thread runs the thread's body in a cgo call for as long
// as libqix needs the thread, so C calls into Go from it (qixgoInboxReady, qixgoCallDone) run on a thread
// Go knows. Called by libqix, possibly under its locks: it only starts the goroutine.
//
//export qixgoStartThread
func qixgoStartThread(body, arg C.uintptr_t) C.int {
	go func() {
		// Never unlocked: when the body returns, the goroutine ends and its OS thread with it.
		runtime.LockOSThread()
		if id := threadID(); id != 0 {
			libqixThreads.Store(id, true)
		}
		C.qixgo_run_thread_body(body, arg)
	}()
	return 0
}

// Host is what the bridge's calls into Go reach: the Go session behind a Conn, named in C by a cgo.Handle
// of it (the key given to Conn.Open), valid until the Conn is deleted.
type Host interface {
	// InboxReady: the Conn's inbox went from empty to not empty (or Close wants the poll goroutine to look
	// once more). Must never block.
	InboxReady()
	// CallDone: an asynchronous call (Conn.CallBatch record with the async flag) succeeded with a plain
	// result; body is the result's text, valid during the call only. Runs the caller's function.
	CallDone(token uint64, body []byte)
}

// callbacksRunning counts the asynchronous calls' functions running now (qixgoCallDone), in every
// session: while it is zero no goroutine can be inside one, and HandOverHere returns at once.
var callbacksRunning atomic.Int64

// qixgoInboxReady tells a session's poll goroutine that its inbox has events. Never blocks.
//
//export qixgoInboxReady
func qixgoInboxReady(key C.uintptr_t) {
	if hook := readyHook.Load(); hook != nil {
		id := threadID()
		_, ours := libqixThreads.Load(id)
		(*hook)(id != 0 && ours)
	}
	cgo.Handle(key).Value().(Host).InboxReady()
}

// qixgoCallDone hands an asynchronous call's plain result to its session (see Host.CallDone), on the
// libqix thread that ran its completion.
//
//export qixgoCallDone
func qixgoCallDone(key C.uintptr_t, token C.uint64_t, body *C.char, n C.size_t) {
	callbacksRunning.Add(1)
	defer callbacksRunning.Add(-1)
	cgo.Handle(key).Value().(Host).CallDone(uint64(token), unsafe.Slice((*byte)(unsafe.Pointer(body)), int(n)))
}

// HandOverHere is called before the binding blocks (waits for a call's answer, an open, a close, a row):
// when the calling goroutine is running an asynchronous call's function on a libqix thread, that
// session's later events go to another thread first (the bridge's qixgo_hand_over_here), so that what it
// waits for can arrive. Cheap when no such function runs anywhere.
func HandOverHere() {
	if callbacksRunning.Load() == 0 {
		return
	}
	C.qixgo_hand_over_here()
}

// OnLibqixThread tells whether the caller runs on one of libqix's threads that Go started (Linux only:
// false elsewhere). For the tests.
func OnLibqixThread() bool {
	id := threadID()
	_, ours := libqixThreads.Load(id)
	return id != 0 && ours
}
