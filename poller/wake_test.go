//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package poller_test

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pinion-net/pinion/poller"
)

// deadline bounds how long a test waits for a Wait that should return. It
// only turns a hang into a failure; nothing is synchronised by time.
const deadline = 10 * time.Second

// waitInBackground starts a blocking Wait on its own goroutine and returns
// the channel that receives its result.
func waitInBackground(p *poller.Poller) <-chan error {
	done := make(chan error, 1)
	go func() {
		events := make([]poller.Event, 4)
		n, err := p.Wait(events, -1)
		if err == nil && n != 0 {
			err = fmt.Errorf("got %d events; want 0 (wakeups are not events)", n)
		}
		done <- err
	}()
	return done
}

func awaitReturn(t *testing.T, done <-chan error) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Wait(-1): %v", err)
		}
	case <-time.After(deadline):
		t.Fatalf("Wait(-1) still blocked %v after Wake", deadline)
	}
}

func mustWake(t *testing.T, p *poller.Poller) {
	t.Helper()
	if err := p.Wake(); err != nil {
		t.Fatalf("Wake: %v", err)
	}
}

func TestWakeUnblocksWait(t *testing.T) {
	p := mustOpen(t)
	done := waitInBackground(p)
	mustWake(t, p)
	awaitReturn(t, done)
}

func TestWakeBeforeWaitIsKept(t *testing.T) {
	p := mustOpen(t)
	mustWake(t, p)
	mustWake(t, p) // coalesces with the first
	awaitReturn(t, waitInBackground(p))
	// The wakeup was consumed: the next non-blocking Wait is quiet.
	events := make([]poller.Event, 4)
	if n, err := p.Wait(events, 0); n != 0 || err != nil {
		t.Fatalf("Wait(0) after the wakeup was consumed: got %d, %v; want 0, nil", n, err)
	}
}

// TestConcurrentWakesLoseNothing runs 100 goroutines of 100 Wakes each against
// an owner that keeps waiting, then checks that the poller still wakes: a
// fresh Wake must unblock a blocking Wait, again and again.
func TestConcurrentWakesLoseNothing(t *testing.T) {
	p := mustOpen(t)
	var stop atomic.Bool
	owner := make(chan error, 1)
	go func() {
		events := make([]poller.Event, 4)
		for {
			if _, err := p.Wait(events, -1); err != nil {
				owner <- err
				return
			}
			if stop.Load() {
				owner <- nil
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() {
			for range 100 {
				if err := p.Wake(); err != nil {
					t.Errorf("Wake: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	// The stop flag is set before this Wake; whether it signals or coalesces,
	// the owner's check after its Wait must see the flag.
	stop.Store(true)
	mustWake(t, p)
	awaitReturn(t, owner)

	for range 100 {
		done := waitInBackground(p)
		mustWake(t, p)
		awaitReturn(t, done)
	}
}

func TestWakeRacingClose(t *testing.T) {
	p, err := poller.Open()
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 8 {
		wg.Go(func() {
			<-start
			for range 1000 {
				if err := p.Wake(); err != nil && !errors.Is(err, poller.ErrClosed) {
					t.Errorf("Wake racing Close: got %v; want nil or ErrClosed", err)
					return
				}
			}
		})
	}
	close(start)
	if err := p.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	wg.Wait()
	if err := p.Wake(); !errors.Is(err, poller.ErrClosed) {
		t.Fatalf("Wake after Close: got %v; want ErrClosed", err)
	}
}

func BenchmarkWake(b *testing.B) {
	b.Run("Signal+Consume", func(b *testing.B) {
		p := mustOpen(b)
		events := make([]poller.Event, 4)
		b.ReportAllocs()
		for b.Loop() {
			if err := p.Wake(); err != nil {
				b.Fatal(err)
			}
			if _, err := p.Wait(events, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Coalesced", func(b *testing.B) {
		p := mustOpen(b)
		if err := p.Wake(); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if err := p.Wake(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
