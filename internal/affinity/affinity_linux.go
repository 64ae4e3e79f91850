package affinity

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// maxCPUs bounds the CPU numbers this package handles. Linux allows at most
// 8192 CPUs today (CONFIG_NR_CPUS); the bound keeps a bad argument from
// allocating a huge mask.
const maxCPUs = 1 << 16

// Allowed returns the CPUs this process may run on, in ascending order, as
// reported by sched_getaffinity(2) for the calling thread. That is the
// process's mask (as narrowed by taskset, cgroup cpusets or a container
// runtime) unless the calling thread was pinned, so call it from an ordinary
// goroutine, not from one that has called PinThread. If the mask cannot be
// read it falls back to 0..runtime.NumCPU()-1.
func Allowed() []int {
	// Start with room for 1024 CPUs, the glibc CPU_SETSIZE, and double
	// while the kernel's mask is larger (sched_getaffinity fails with
	// EINVAL when the buffer is smaller than the kernel's mask).
	for n := 1024; n <= maxCPUs; n *= 2 {
		set := unix.NewCPUSet(n)
		err := unix.SchedGetaffinityDynamic(0, set)
		if err == unix.EINVAL {
			continue
		}
		if err != nil || set.Count() == 0 {
			break
		}
		cpus := make([]int, 0, set.Count())
		for cpu := range n {
			if set.IsSet(cpu) {
				cpus = append(cpus, cpu)
			}
		}
		return cpus
	}
	return firstN(runtime.NumCPU())
}

// PinThread restricts the calling OS thread to cpu (sched_setaffinity(2) on
// thread 0 with the mask {cpu}). It fails if cpu is negative, beyond the
// machine's CPUs, or not among the CPUs the process may use.
//
// The caller must have called runtime.LockOSThread, or the pin would apply
// to whichever thread happens to run the goroutine, and must never call
// runtime.UnlockOSThread afterwards: the thread's mask is changed for good,
// and an unlocked thread goes back to the runtime and would run other
// goroutines on that one CPU. The goroutine should instead exit while still
// locked, which makes the runtime terminate the thread rather than reuse it.
func PinThread(cpu int) error {
	if cpu < 0 || cpu >= maxCPUs {
		return fmt.Errorf("affinity: pin thread to cpu %d: %w", cpu, unix.EINVAL)
	}
	set := unix.NewCPUSet(cpu + 1)
	set.Set(cpu)
	if err := unix.SchedSetaffinityDynamic(0, set); err != nil {
		return fmt.Errorf("affinity: pin thread to cpu %d: sched_setaffinity: %w", cpu, err)
	}
	return nil
}
