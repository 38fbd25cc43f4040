package qixswig

// libqix's threads, started by Go, and the one call from C into Go (see bridge.hpp): a session's "poll
// now". Hand-written, next to the SWIG output of this package.

/*
#include <stdint.h>
void qixgo_run_thread_body(uintptr_t body, uintptr_t arg);
*/
import "C"

import (
	"runtime"
	"runtime/cgo"
	"sync"
	"sync/atomic"
)

// libqixThreads holds the OS thread ids (threadID) of the threads started by qixgoStartThread, for the
// tests (SetReadyHook); empty where threadID is not known.
var libqixThreads sync.Map

// readyHook, when set, is called by qixgoPollReady with whether its caller is one of libqix's threads that
// Go started (for the tests: answers must wake the poll goroutine from those threads, where calling Go is
// cheap).
var readyHook atomic.Pointer[func(fromLibqixThread bool)]

// SetReadyHook sets (nil: removes) the function qixgoPollReady calls with whether it runs on one of
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
// as libqix needs the thread, so C calls into Go from it (qixgoPollReady) run on a thread Go knows. Called
// by libqix, possibly under its locks: it only starts the goroutine.
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

// qixgoPollReady tells a session's poll goroutine that libqix has something for it to poll: key is a
// cgo.Handle of the session's wake-up channel (room for one), which stays valid until the session's Conn is
// deleted. Never blocks: a wake-up already waiting stands for this one too.
//
//export qixgoPollReady
func qixgoPollReady(key C.uintptr_t) {
	if hook := readyHook.Load(); hook != nil {
		id := threadID()
		_, ours := libqixThreads.Load(id)
		(*hook)(id != 0 && ours)
	}
	ch := cgo.Handle(key).Value().(chan struct{})
	select {
	case ch <- struct{}{}:
	default:
	}
}
