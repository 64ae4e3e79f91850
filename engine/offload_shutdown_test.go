package engine_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/pinion-net/pinion/engine"
)

// offWorkerGoroutines counts goroutines running an offload pool worker.
func offWorkerGoroutines() int { return goroutinesIn("offload.(*Pool).worker(") }

// offNoWorkersLeft fails unless every pool worker has exited. A worker
// that has signalled its exit may still be returning when Shutdown does:
// allow it a moment.
func offNoWorkersLeft(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for n := offWorkerGoroutines(); n > 0; n = offWorkerGoroutines() {
		if time.Now().After(deadline) {
			t.Fatalf("offload worker goroutines 2s after Shutdown returned: got %d, want 0", n)
		}
		<-tick.C
	}
}

// offShutdownSetup starts a one-loop engine whose tasks wait for gate (or
// their context's end) and report how each ended on ends; it connects 8
// clients, each sending one line, so that 2 tasks run, 4 wait in the
// pool's queue and 2 wait on the loop for room.
func offShutdownSetup(t *testing.T) (e *engine.Engine, clients []*net.TCPConn, open func(), ends chan error) {
	t.Helper()
	gate, open := offGate()
	ends = make(chan error, 16)
	h := newOffHandler(func(ctx context.Context, line string, w io.Writer) error {
		select {
		case <-gate:
		case <-ctx.Done():
			ends <- ctx.Err()
			return ctx.Err()
		}
		ends <- nil
		_, err := io.WriteString(w, "reply "+line)
		return err
	})
	// The tests shut down themselves; the cleanup's Shutdown is a spare.
	e, addr := startEngine(t, h, engine.Config{Loops: 1, OffloadWorkers: 2, OffloadQueue: 4})
	// Runs before that Shutdown: frees the tasks of a test that failed.
	t.Cleanup(open)
	for i := range 8 {
		c := offDial(t, addr)
		offSend(t, c, fmt.Sprintf("%d\n", i))
		clients = append(clients, c)
	}
	offEventually(t, e, 10*time.Second, "2 busy workers, a full queue and 2 waiting connections", func(s engine.OffloadStats) bool {
		return s.Busy == 2 && s.Depth == 4 && s.Waiting == 2
	})
	// The probe must see them, or seeing none after Shutdown proves nothing.
	if n := offWorkerGoroutines(); n < 2 {
		t.Fatalf("offload worker goroutines with both workers busy: got %d, want >= 2", n)
	}
	return e, clients, open, ends
}

// TestOffloadShutdownDrains: with time enough, Shutdown lets every task —
// running, queued in the pool, or waiting on the loop for room — finish
// and deliver its reply, then each connection ends with FIN; Shutdown
// returns nil with no worker left.
func TestOffloadShutdownDrains(t *testing.T) {
	e, clients, open, ends := offShutdownSetup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- e.Shutdown(ctx) }()
	// The listener closes first: a new connection is refused while the
	// tasks are still held at the gate.
	addr := e.Addrs()[0].String()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break
		}
		_ = c.Close()
		if time.Now().After(deadline) {
			t.Fatal("still accepting 10s after Shutdown started")
		}
	}
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned %v while tasks were held; want it to wait for them", err)
	default:
	}
	open()
	for i, c := range clients {
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		got, err := io.ReadAll(c)
		_ = c.Close() // the server lingers for our FIN
		if want := fmt.Sprintf("reply %d\n", i); string(got) != want || err != nil {
			t.Errorf("client %d: got %q then %v, want %q then EOF", i, got, err, want)
		}
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Shutdown: got %v, want nil", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Shutdown not returned 15s after the gate opened")
	}
	for i := range 8 {
		if err := <-ends; err != nil {
			t.Errorf("task %d ended with %v, want nil (not cancelled)", i, err)
		}
	}
	s := e.Stats().Offload
	if s.Completed != 8 || s.DroppedQueued != 0 || s.LateReplies != 0 {
		t.Errorf("offload stats: got %s; want 8 completed, none dropped or late", offFormat(s))
	}
	offNoWorkersLeft(t)
}

// TestOffloadShutdownTimeout: when Shutdown's context ends first, the
// running tasks see their contexts cancelled, those queued in the pool or
// still waiting on the loop never start, and Shutdown returns
// context.DeadlineExceeded with no worker left.
func TestOffloadShutdownTimeout(t *testing.T) {
	e, _, _, ends := offShutdownSetup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := e.Shutdown(ctx)
	took := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: got %v, want context.DeadlineExceeded", err)
	}
	t.Logf("Shutdown with a 200ms context returned after %v", took.Round(time.Millisecond))
	close(ends) // every task ran before Shutdown returned: the pool is closed
	n := 0
	for err := range ends {
		n++
		if !errors.Is(err, context.Canceled) {
			t.Errorf("task %d ended with %v, want context.Canceled", n, err)
		}
	}
	if n != 2 {
		t.Errorf("tasks run: got %d, want 2 (the running ones; 4 queued in the pool and 2 waiting on the loop never run)", n)
	}
	s := e.Stats().Offload
	if s.DroppedQueued != 6 {
		t.Errorf("DroppedQueued: got %d, want 6; stats: %s", s.DroppedQueued, offFormat(s))
	}
	offNoWorkersLeft(t)
}
