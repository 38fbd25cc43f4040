//go:build !linux

package qixswig

// threadID: not known here (0).
func threadID() int { return 0 }
