//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package poller

import (
	"runtime"
	"sync/atomic"
)

// wakeState coalesces wakeups and keeps Close from releasing the wakeup fd
// under a Wake that is still using it.
//
// The wakeup protocol is a two-state machine in pending:
//
//	idle ──Wake: CAS idle→pending, then signal the kernel object──▶ pending
//	pending ──Wait: sees the wakeup event, drains it, stores idle──▶ idle
//
// Only the Wake whose compare-and-swap succeeds makes a system call; a Wake
// that finds pending returns at once. No wakeup is lost:
//
//   - A Wake that wins the CAS signals the kernel object, so the current Wait
//     returns or the next one returns at once (the object stays ready until
//     drained, and the registration is level-triggered or, for EVFILT_USER,
//     kept until collected).
//   - A Wake that loses the CAS ran while pending, that is after some Wake's
//     signal and before the owner's Wait stored idle. The owner checks for
//     work after every Wait returns, and the atomics are sequentially
//     consistent, so the work posted before the coalesced Wake is visible
//     to that check.
//   - Wait drains before it stores idle. A Wake that comes after the store
//     signals anew and is not drained by this Wait, so the next Wait
//     returns at once.
//   - If the signal fails, the winner stores idle again so that a later Wake
//     retries rather than coalescing into a signal that never happened.
//
// gate counts Wakes that are between winning the CAS and finishing their
// signal, plus a closed bit. Close sets the bit and waits for the count to
// drop to zero before it closes the fds, so a Wake never writes to an fd
// number that Close released and the process may have reused. A Wake enters
// the gate before it looks at the closed bit and Close sets the bit before it
// looks at the count, so one of them always sees the other.
type wakeState struct {
	pending atomic.Uint32 // wakeIdle or wakePending
	gate    atomic.Uint32 // gateClosed | number of signalling Wakes
}

const (
	wakeIdle    = 0
	wakePending = 1

	gateClosed = 1 << 31
)

// arm reports whether the caller won idle→pending and must signal the kernel
// object, then call signalled. It returns ErrClosed after close.
func (w *wakeState) arm() (bool, error) {
	if w.pending.CompareAndSwap(wakeIdle, wakePending) {
		if w.gate.Add(1)&gateClosed != 0 {
			w.gate.Add(^uint32(0))
			return false, ErrClosed
		}
		return true, nil
	}
	if w.gate.Load()&gateClosed != 0 {
		return false, ErrClosed
	}
	return false, nil
}

// signalled leaves the gate after the winner's signal; a failed signal
// returns the state to idle so the next Wake tries again.
func (w *wakeState) signalled(err error) {
	if err != nil {
		w.pending.Store(wakeIdle)
	}
	w.gate.Add(^uint32(0))
}

// consumed returns the state to idle; Wait calls it after draining the
// wakeup.
func (w *wakeState) consumed() { w.pending.Store(wakeIdle) }

// shut closes the gate and waits for signalling Wakes to leave it. It
// reports false when the gate was already closed.
func (w *wakeState) shut() bool {
	if w.gate.Or(gateClosed)&gateClosed != 0 {
		return false
	}
	// A signalling Wake holds the gate for one non-blocking system call.
	for w.gate.Load() != gateClosed {
		runtime.Gosched()
	}
	return true
}
