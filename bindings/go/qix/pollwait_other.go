//go:build !linux

package qix

// waitLoop: only Linux has the readiness descriptor (an eventfd); elsewhere pollLoop polls in C.
func (s *Session) waitLoop() bool { return false }
