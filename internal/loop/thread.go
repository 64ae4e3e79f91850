package loop

import (
	"runtime"

	"github.com/pinion-net/pinion/internal/affinity"
)

// CPUs returns the CPUs the process may run on, in order (taskset and
// cpusets honoured), for choosing each loop's cpu in RunOn.
func CPUs() []int { return affinity.Allowed() }

// RunOn runs the loop (see Run) on the calling goroutine, locked to its OS
// thread and, when cpu >= 0, with the thread pinned to that CPU. A failed
// pin is logged and the loop runs unpinned. The thread is never unlocked:
// the runtime then ends it with the goroutine instead of reusing a thread
// whose CPU mask was changed.
func (l *Loop) RunOn(cpu int) {
	runtime.LockOSThread()
	if cpu >= 0 {
		if err := affinity.PinThread(cpu); err != nil {
			l.log.Warn("cannot pin loop thread; running unpinned", "cpu", cpu, "err", err)
		}
	}
	l.Run()
}
