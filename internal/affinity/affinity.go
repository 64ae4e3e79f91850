package affinity

import "errors"

// ErrUnsupported is returned by PinThread on platforms where a thread cannot
// be pinned to a CPU.
var ErrUnsupported = errors.New("affinity: not supported on this platform")

// firstN returns 0, 1, ..., n-1: the CPU numbers assumed where the system
// cannot say which CPUs the process may use.
func firstN(n int) []int {
	cpus := make([]int, n)
	for i := range cpus {
		cpus[i] = i
	}
	return cpus
}
