package qixswig

// libqix's threads, started by Go, and the calls from C into Go (see bridge.hpp): a session's "drain your
// inbox" and "your asynchronous call is answered". Hand-written, next to the SWIG output of this package.

/*
#include <stdint.h>
#include <stddef.h>
void qixgo_run_thread_body(uintptr_t body, uintptr_t arg);
int qixgo_hand_over_here(uintptr_t* gathered_key);
void qixgo_call_batch(uintptr_t conn, char* buf, size_t len);
*/
import "C"

import (
	"runtime"
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

// The functions the bridge's calls into Go reach, set by package qix in its init (before any session can
// open): key is the session's key given to Conn.Open, valid until the Conn is deleted.
var (
	// InboxReady: the Conn's inbox went from empty to not empty (or Close wants the poll goroutine to look
	// once more). Must never block.
	InboxReady func(key uintptr)
	// CallDone: an asynchronous call (a CallBatch record with the async flag) succeeded with a plain
	// result; body is the result's text, valid during the call only. Runs the caller's function.
	CallDone func(key uintptr, token uint64, body []byte)
	// CallsDone: asynchronous calls that succeeded with plain results in one run of libqix's callbacks,
	// handed over together at its end: records holds, per call, the token (8 bytes), the body's length (4),
	// 4 zero bytes and the body, little-endian; libqix's memory, valid during the call only; count is the
	// number of records. Runs the callers' functions, in order. handedOver turns non-zero once a function handed the session's events
	// over (HandOverHere, which then reported this run's session to the caller). Before each function
	// runs, *next is set to the offset of the record after its own: when that function hands the events
	// over, the records from there on go along (the thread taking the events over runs them first) and
	// *restDeferred turns non-zero: CallsDone then stops after that function.
	CallsDone func(key uintptr, records []byte, count int64, handedOver *int32, next *int64, restDeferred *int32)
)

// asyncUsed is set once the process made its first asynchronous call (UsingAsync): until then no
// goroutine can be inside an asynchronous call's function, and HandOverHere returns at once.
var asyncUsed atomic.Bool

// UsingAsync records that asynchronous calls are made (package qix calls it for each; only the first
// stores).
func UsingAsync() {
	if !asyncUsed.Load() {
		asyncUsed.Store(true)
	}
}

// qixgoInboxReady tells a session's poll goroutine that its inbox has events. Never blocks.
//
//export qixgoInboxReady
func qixgoInboxReady(key C.uintptr_t) {
	if hook := readyHook.Load(); hook != nil {
		id := threadID()
		_, ours := libqixThreads.Load(id)
		(*hook)(id != 0 && ours)
	}
	InboxReady(uintptr(key))
}

// qixgoCallDone hands an asynchronous call's plain result to its session (see CallDone), on the
// libqix thread that ran its completion.
//
//export qixgoCallDone
func qixgoCallDone(key C.uintptr_t, token C.uint64_t, body *C.char, n C.size_t) {
	CallDone(uintptr(key), uint64(token), unsafe.Slice((*byte)(unsafe.Pointer(body)), int(n)))
}

// qixgoCallsDone hands the plain results of a run of callbacks to their session (see CallsDone), on the
// libqix thread that ran them.
//
//export qixgoCallsDone
func qixgoCallsDone(key C.uintptr_t, records *C.char, n C.size_t, count C.int64_t, handedOver *C.int,
	next *C.int64_t, restDeferred *C.int) {
	CallsDone(uintptr(key), unsafe.Slice((*byte)(unsafe.Pointer(records)), int(n)), int64(count),
		(*int32)(unsafe.Pointer(handedOver)), (*int64)(unsafe.Pointer(next)), (*int32)(unsafe.Pointer(restDeferred)))
}

// HandOverHere is called before the binding blocks (waits for a call's answer, an open, a close, a row):
// when the calling goroutine is running asynchronous calls' functions on a libqix thread, that session's
// later events go to another thread first (the bridge's qixgo_hand_over_here), so that what it waits for
// can arrive. Returns the session's key when those functions were a run handed over by CallsDone (the
// caller stops gathering their calls), else 0. One atomic load in a program that makes no asynchronous
// calls, else a cgo call.
func HandOverHere() uintptr {
	if !asyncUsed.Load() {
		return 0
	}
	var key C.uintptr_t
	C.qixgo_hand_over_here(&key)
	return uintptr(key)
}

// CallBatch issues the calls recorded in buf (the bridge's Conn::call_batch: buf holds call records, and
// gets each call's request id over its first 8 bytes). Not through SWIG, whose slice argument cgo's pointer
// checks look up in the Go heap on every call: buf is passed as a plain char pointer, borrowed for the call.
func CallBatch(c Conn, buf []byte) {
	if len(buf) == 0 {
		return
	}
	C.qixgo_call_batch(C.uintptr_t(c.Swigcptr()), (*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)))
}

// OnLibqixThread tells whether the caller runs on one of libqix's threads that Go started (Linux only:
// false elsewhere). For the tests.
func OnLibqixThread() bool {
	id := threadID()
	_, ours := libqixThreads.Load(id)
	return id != 0 && ours
}
