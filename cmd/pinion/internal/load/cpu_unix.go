//go:build unix

package load

import (
	"syscall"
	"time"
)

// processCPU returns the user plus system CPU time this process has used,
// all threads together, or -1 when the system cannot tell.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
