//go:build !linux && !darwin && !dragonfly && !freebsd && !netbsd && !openbsd

package affinity

import "runtime"

// Allowed returns 0..runtime.NumCPU()-1.
func Allowed() []int {
	return firstN(runtime.NumCPU())
}

// PinThread returns ErrUnsupported on this platform.
func PinThread(cpu int) error {
	return ErrUnsupported
}
