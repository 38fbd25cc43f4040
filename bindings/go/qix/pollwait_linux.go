package qix

import (
	"os"
	"syscall"
)

// waitLoop is the poll loop on Go's netpoller: it waits for the session's readiness descriptor
// (qix_session_poll_fd, an eventfd that is readable while libqix has queued callbacks or a Wake, and that
// every Poll clears) and then drains with Poll(0), so the goroutine parks in the runtime and no OS thread
// stays blocked in C. It returns true when Close stopped it, false when the descriptor cannot be waited
// on (pollLoop then polls in C; what was drained here stays drained).
//
// The wait is a raw read that never reads: the callback drains and returns false to wait again. The
// drain runs inside the callback on purpose: RawRead forgets readiness the netpoller saw before it was
// called, and a callback queued after the drain sets the descriptor again, which the netpoller reports
// (edge-triggered) to the wait that follows, so no wake-up is lost between the drain and the wait.
func (s *Session) waitLoop() bool {
	fd := s.conn.PollFd()
	if fd < 0 {
		return false
	}
	// A duplicate (close-on-exec) for the os.File, which closes it: libqix's descriptor is the session's.
	// It shares the original's non-blocking mode, so os.NewFile registers it with the netpoller.
	dup, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_DUPFD_CLOEXEC, 0)
	if errno != 0 {
		return false
	}
	f := os.NewFile(dup, "qix-session-poll")
	if f == nil {
		return false
	}
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return false
	}
	// An error here means the file is not pollable after all (the first callback ran, then the wait
	// failed): go on polling in C.
	return rc.Read(func(uintptr) bool { return s.pollReady() }) == nil
}
