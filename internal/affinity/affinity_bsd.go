//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package affinity

import "runtime"

// Allowed returns 0..runtime.NumCPU()-1. Darwin and the BSDs are not asked
// for the process's CPU mask, so every CPU is assumed usable.
func Allowed() []int {
	return firstN(runtime.NumCPU())
}

// PinThread returns ErrUnsupported: Darwin has no way to bind a thread to a
// CPU (only affinity hints), and the BSDs' cpuset calls are not wrapped by
// golang.org/x/sys/unix, so loops run unpinned here.
func PinThread(cpu int) error {
	return ErrUnsupported
}
