//go:build linux && (amd64 || arm64)

package uring

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// wakeState coalesces wakeups and keeps Close from closing the eventfd under
// a Wake that is writing to it.
//
// The ring keeps one read of the eventfd armed at all times. The protocol has
// two states:
//
//	idle ──Wake: CAS idle→pending, then write the eventfd──▶ pending
//	pending ──Reap: the read completes (counter drained), store idle, re-arm──▶ idle
//
// Only the Wake that wins the CAS makes a system call. A Wake that loses ran
// after a winner's write and before Reap stored idle; the owner looks at its
// work queue after every Reap, with sequentially consistent atomics, so work
// posted before a coalesced Wake is seen. A Wake after the store writes anew,
// and the re-armed read completes for it. If the write fails the winner
// stores idle again so a later Wake retries.
//
// gate counts Wakes between winning the CAS and finishing their write, plus a
// closed bit. close sets the bit and waits for the count to reach zero before
// the eventfd is closed, so no Wake writes to an fd number the process may
// have reused. A Wake enters the gate before it reads the bit and close sets
// the bit before it reads the count, so one always sees the other.
type wakeState struct {
	pending atomic.Uint32
	gate    atomic.Uint32
}

// wakeOneOff is where in scratch the 8-byte 1 that Wake writes lives (the
// counter the read fills is at 0).
const wakeOneOff = 8

const (
	wakeIdle    = 0
	wakePending = 1
	gateClosed  = 1 << 31
)

// setupWake creates the eventfd and arms its first read. The eventfd is
// blocking on purpose: the kernel honours O_NONBLOCK on a read it was asked
// to do and would complete it at once with EAGAIN instead of waiting.
func (r *Ring) setupWake() error {
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC)
	if err != nil {
		return &UnavailableError{Reason: ReasonResources, Detail: "eventfd", Err: err}
	}
	r.efd = efd
	binary.NativeEndian.PutUint64(r.scratch[wakeOneOff:], 1)
	return r.armWake()
}

// armWake queues a read of the eventfd's 8-byte counter into scratch.
func (r *Ring) armWake() error {
	e, _, err := r.next()
	if err != nil {
		return err
	}
	e.opcode = opcodeRead
	e.fd = int32(r.efd)
	e.addr = addrOfU64(r.wakeCount)
	e.len = 8
	e.off = ^uint64(0) // no file position: an eventfd is a stream
	e.userData = uint64(NewToken(r.efd, 0).with(opWake))
	return nil
}

// woken handles the completion of the eventfd read.
func (r *Ring) woken(res int32) {
	r.stats.Wakeups++
	r.wake.pending.Store(wakeIdle)
	if res < 0 && res != -int32(unix.ECANCELED) && res != -int32(unix.EINTR) {
		// A read of an eventfd fails only on a broken invariant (a bad
		// buffer, a closed fd); re-arming would spin on the same error.
		panic(fmt.Sprintf("uring: eventfd read failed: %v", unix.Errno(-res)))
	}
	r.wakeDisarmed = true
	r.rearmWake()
}

// rearmWake arms the eventfd read again if it completed and the submission
// ring has room; otherwise enter retries before its next submission. Reap
// calls it while it holds completions, so it must not submit.
func (r *Ring) rearmWake() {
	if !r.wakeDisarmed || r.pending() == r.sqEntries {
		return
	}
	r.wakeDisarmed = false
	if err := r.armWake(); err != nil {
		panic(fmt.Sprintf("uring: re-arming the wakeup with room in the ring: %v", err))
	}
}

// Wake makes the owner's current SubmitAndWait return, or the next one if
// none is waiting. Wakeups coalesce: only the first Wake after the owner
// consumed the previous one makes a system call. Safe from any goroutine; it
// returns ErrClosed after Close.
func (r *Ring) Wake() error {
	if r.wake.gate.Load()&gateClosed != 0 {
		return ErrClosed
	}
	if !r.wake.pending.CompareAndSwap(wakeIdle, wakePending) {
		return nil
	}
	if r.wake.gate.Add(1)&gateClosed != 0 {
		r.wake.gate.Add(^uint32(0))
		return ErrClosed
	}
	// The 1 lives in scratch (setupWake), not on this stack: a local array
	// passed to the system call escapes to the heap under the race
	// detector, and Wake must not allocate (Handle.Post's promise).
	_, err := unix.Write(r.efd, r.scratch[wakeOneOff:wakeOneOff+8])
	r.wake.gate.Add(^uint32(0))
	if err != nil {
		r.wake.pending.Store(wakeIdle)
		return fmt.Errorf("uring: wake: %w", err)
	}
	return nil
}

// close shuts the gate and waits for Wakes inside it to finish. Afterwards
// every Wake returns ErrClosed or coalesces into a pending wakeup.
func (w *wakeState) close() {
	w.gate.Add(gateClosed)
	for w.gate.Load() != gateClosed {
		runtime.Gosched()
	}
}
