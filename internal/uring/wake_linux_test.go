//go:build linux && (amd64 || arm64)

package uring

import (
	"errors"
	"sync"
	"testing"
	"time"
)

func TestWakeFromAnotherGoroutine(t *testing.T) {
	r := newRing(t, Config{})
	for round := range 3 {
		done := make(chan error, 1)
		go func() { done <- r.Wake() }()
		var cqes [4]CQE
		deadline := time.Now().Add(testDeadline)
		for r.Stats().Wakeups == uint64(round) {
			if time.Now().After(deadline) {
				t.Fatalf("round %d: no wakeup within %v", round, testDeadline)
			}
			// An unbounded wait: only the wakeup can end it.
			if err := r.SubmitAndWait(-1); err != nil {
				t.Fatal(err)
			}
			if n := r.Reap(cqes[:]); n != 0 {
				t.Fatalf("Reap returned the ring's own completions: %+v", cqes[:n])
			}
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// TestWakeCoalesces has many goroutines wake at once: at most as many
// wakeups reach the ring as there were Wakes, at least one does, and after
// each one the state is back to idle.
func TestWakeCoalesces(t *testing.T) {
	r := newRing(t, Config{})
	const wakers = 64
	var wg sync.WaitGroup
	for range wakers {
		wg.Go(func() {
			if err := r.Wake(); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	var cqes [4]CQE
	for r.Stats().Wakeups == 0 {
		if err := r.SubmitAndWait(testDeadline); err != nil {
			t.Fatal(err)
		}
		r.Reap(cqes[:])
	}
	if w := r.Stats().Wakeups; w > wakers {
		t.Errorf("%d wakeups for %d Wakes", w, wakers)
	}
	if r.wake.pending.Load() != wakeIdle {
		// All Wakes finished before the wait, so the one wakeup consumed
		// covers them all and leaves the state idle.
		t.Errorf("wake state pending after the wakeup was consumed")
	}
}

func TestWakeDuringClose(t *testing.T) {
	r := newRing(t, Config{})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				r.Wake()
			}
		})
	}
	r.Close()
	close(stop)
	wg.Wait()
	if err := r.Wake(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Wake after Close: %v, want ErrClosed", err)
	}
}

// TestWakeRearmWithFullRing consumes a wakeup while the submission ring is
// full, so its read cannot be re-armed at once; the next wait must re-arm it
// before blocking, or a later Wake would be lost.
func TestWakeRearmWithFullRing(t *testing.T) {
	r := newRing(t, Config{Entries: 4})
	var cqes [8]CQE
	if err := r.Wake(); err != nil {
		t.Fatal(err)
	}
	if err := r.SubmitAndWait(testDeadline); err != nil { // the read completes
		t.Fatal(err)
	}
	for range 4 {
		if err := r.Nop(NewToken(1, 1)); err != nil {
			t.Fatal(err)
		}
	}
	if r.pending() != r.sqEntries {
		t.Fatalf("%d entries pending, want a full ring of %d", r.pending(), r.sqEntries)
	}
	r.Reap(cqes[:]) // consumes the wakeup with no room to re-arm
	if r.Stats().Wakeups != 1 || !r.wakeDisarmed {
		t.Fatalf("wakeups %d, disarmed %v: want the wakeup consumed and the read not re-armed", r.Stats().Wakeups, r.wakeDisarmed)
	}
	nops := 0
	for nops < 4 {
		if err := r.SubmitAndWait(testDeadline); err != nil {
			t.Fatal(err)
		}
		nops += r.Reap(cqes[:])
	}
	if r.wakeDisarmed {
		t.Fatal("the wakeup's read is still not armed after a submission made room")
	}
	go r.Wake()
	deadline := time.Now().Add(testDeadline)
	for r.Stats().Wakeups == 1 && time.Now().Before(deadline) {
		if err := r.SubmitAndWait(testDeadline); err != nil {
			t.Fatal(err)
		}
		r.Reap(cqes[:])
	}
	if r.Stats().Wakeups != 2 {
		t.Fatalf("second wakeup lost: %d wakeups", r.Stats().Wakeups)
	}
}
