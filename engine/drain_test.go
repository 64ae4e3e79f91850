package engine_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pinion-net/pinion/engine"
)

// drainEcho echoes, and once the engine drains closes each connection after
// the echo it owes, as a protocol ends a connection where a request ends.
type drainEcho struct {
	engine.BaseHandler
	told atomic.Int64 // OnDrain calls
	bad  atomic.Int64 // OnDrain on a connection whose Draining was false
}

func (h *drainEcho) OnData(c *engine.Conn) {
	_, _ = c.Write(c.Next(-1))
	if c.Draining() {
		_ = c.Close()
	}
}

func (h *drainEcho) OnDrain(c *engine.Conn) {
	h.told.Add(1)
	if !c.Draining() {
		h.bad.Add(1)
	}
}

// TestDrainState: Drain stops accepting at once, keeps serving the
// connections open, tells the handler of each exactly once, reports the
// state in Draining, Stats and the metrics, and returns when the last
// connection is gone; Shutdown then stops at once. Both balances: per-loop
// reuseport sockets, and one acceptor socket.
func TestDrainState(t *testing.T) {
	for _, lb := range []engine.Balance{engine.ReusePort, engine.RoundRobin} {
		t.Run(lb.String(), func(t *testing.T) {
			h := &drainEcho{}
			e, addr := startEngine(t, h, engine.Config{Balance: lb})
			var conns []net.Conn
			for range 4 {
				c, err := net.DialTimeout("tcp", addr, 5*time.Second)
				if err != nil {
					t.Fatalf("dial: %v", err)
				}
				defer c.Close()
				if err := echoOn(c, []byte("before")); err != nil {
					t.Fatalf("echo before the drain: %v", err)
				}
				conns = append(conns, c)
			}
			if e.Draining() || e.Stats().Draining {
				t.Fatal("Draining before Drain")
			}
			done := make(chan error, 1)
			start := time.Now()
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				done <- e.Drain(ctx)
			}()
			waitFor(t, 5*time.Second, "OnDrain for every connection", func() bool { return h.told.Load() == 4 }, nil)
			if !e.Draining() || !e.Stats().Draining {
				t.Error("Draining or Stats.Draining false during the drain")
			}
			var m bytes.Buffer
			if err := e.WriteMetrics(&m); err != nil || !strings.Contains(m.String(), "\npinion_draining 1\n") {
				t.Errorf("metrics during the drain lack pinion_draining 1 (err %v)", err)
			}
			if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
				c.Close()
				t.Error("a new connection was accepted during the drain")
			}
			for i, c := range conns {
				select {
				case err := <-done:
					t.Fatalf("Drain returned %v with %d connections open", err, len(conns)-i)
				default:
				}
				// In flight: served, then closed by the handler.
				if err := echoOn(c, []byte("during")); err != nil {
					t.Fatalf("conn %d: echo during the drain: %v", i, err)
				}
				_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
				if n, err := c.Read(make([]byte, 1)); n != 0 || !errors.Is(err, io.EOF) {
					t.Fatalf("conn %d: after its last echo got %d bytes, %v; want EOF", i, n, err)
				}
				_ = c.Close()
			}
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("Drain: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Drain did not return after the last connection closed")
			}
			if h.told.Load() != 4 || h.bad.Load() != 0 {
				t.Errorf("OnDrain calls %d (want 4), %d with Draining false", h.told.Load(), h.bad.Load())
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := e.Shutdown(ctx); err != nil {
				t.Fatalf("Shutdown after the drain: %v", err)
			}
			if err := e.Drain(ctx); !errors.Is(err, engine.ErrStopped) {
				t.Errorf("Drain after Shutdown: got %v, want ErrStopped", err)
			}
			t.Logf("drain took %v", time.Since(start).Round(time.Millisecond))
		})
	}
}

// TestDrainDeadline: a connection its handler never closes keeps the drain
// going; Drain returns ctx's error at the deadline with the connection
// still served, and Shutdown then closes it with a FIN.
func TestDrainDeadline(t *testing.T) {
	e, addr, _ := startEcho(t, engine.Config{})
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	if err := echoOn(c, []byte("x")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := e.Drain(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Drain: got %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Drain returned %v after its 200ms deadline", d)
	}
	if err := echoOn(c, []byte("still served")); err != nil {
		t.Fatalf("after the drain's deadline: %v", err)
	}
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	if err := e.Shutdown(sctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := c.Read(make([]byte, 1)); n != 0 || !errors.Is(err, io.EOF) {
		t.Fatalf("after Shutdown got %d bytes, %v; want EOF", n, err)
	}
}
