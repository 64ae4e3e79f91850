// Package affinity pins event-loop threads to CPUs.
//
// Each loop goroutine locks itself to an OS thread (runtime.LockOSThread)
// and, on Linux, pins that thread to one CPU with PinThread, so the loop's
// caches and its share of the NIC's interrupts stay on one core. Allowed
// tells the engine which CPUs it may hand out, honouring taskset, cgroup
// cpusets and container limits.
//
// Only Linux can pin threads. Everywhere else Allowed reports the first
// runtime.NumCPU() CPU numbers and PinThread returns ErrUnsupported, which
// the engine treats as "run unpinned".
//
// A thread's mask does not leak to other threads: when a locked thread would
// start a new OS thread, the Go runtime asks its template thread to create it
// instead (see newm in runtime/proc.go), so new threads inherit the
// process's mask, not a pinned one.
package affinity
