package engine_test

import (
	"context"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pinion-net/pinion/engine"
	"github.com/pinion-net/pinion/internal/tcptest"
)

// stubbornHandler offloads, for every connection, a task that ignores its
// context and waits for gate.
type stubbornHandler struct {
	engine.BaseHandler
	gate    chan struct{}
	started atomic.Int32
	running chan struct{}
}

func (h *stubbornHandler) OnOpen(c *engine.Conn) {
	_ = c.Offload(func(context.Context, io.Writer) error {
		h.started.Add(1)
		h.running <- struct{}{}
		<-h.gate // ignores its context
		return nil
	})
}

// TestShutdownBound covers the defect "Shutdown(ctx) is not a bound: an
// offload task that ignores its context made a 300 ms Shutdown return
// after 2.9 s": Shutdown returns, with the context's error, while the task
// still blocks; the task is counted as stuck, and a task queued behind it
// never starts.
func TestShutdownBound(t *testing.T) {
	h := &stubbornHandler{gate: make(chan struct{}), running: make(chan struct{}, 4)}
	released := false
	release := func() {
		if !released {
			released = true
			close(h.gate)
		}
	}
	defer release()
	cfg := engine.Config{Addrs: []string{"127.0.0.1:0"}, Loops: 1, Pin: engine.PinOff, OffloadWorkers: 1, OffloadQueue: 4}
	e, err := engine.Start(h, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		c, err := net.Dial("tcp", e.Addrs()[0].String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	select {
	case <-h.running:
	case <-time.After(10 * time.Second):
		t.Fatal("the task never started")
	}
	waitFor(t, 10*time.Second, "the second task queued in the pool", func() bool { return e.Stats().Offload.Depth == 1 }, nil)

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- e.Shutdown(ctx) }()
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		release()
		t.Fatalf("Shutdown with a 100ms context was still waiting after 10s for a task that ignores its context")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: %v; want context.DeadlineExceeded", err)
	}
	if n := e.Stats().Offload.Stuck; n != 1 {
		t.Fatalf("Stats().Offload.Stuck = %d; want 1", n)
	}
	release()
	waitFor(t, 10*time.Second, "the worker to exit", func() bool { return offWorkerGoroutines() == 0 }, nil)
	if n := h.started.Load(); n != 1 {
		t.Fatalf("%d tasks started; want 1 (the one queued behind it belongs to a closed connection)", n)
	}
}

// dialingHandler dials from its callbacks, with the engine OnStart gave it.
type dialingHandler struct {
	engine.BaseHandler
	backend  string
	e        *engine.Engine
	startedE chan *engine.Engine
	results  chan string
}

func (h *dialingHandler) OnStart(e *engine.Engine) {
	h.e = e
	h.startedE <- e
	if _, err := e.Dial(context.Background(), h.backend, nil); !errors.Is(err, engine.ErrOnLoop) {
		h.results <- "Dial in OnStart: " + errString(err)
	}
}

func (h *dialingHandler) OnOpen(c *engine.Conn) {
	if c.Dialed() || h.e == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := h.e.Dial(ctx, h.backend, nil)
	if !errors.Is(err, engine.ErrOnLoop) {
		h.results <- "Dial in OnOpen: " + errString(err)
		return
	}
	err = h.e.DialAsync(h.backend, "upstream", func(up engine.Handle, err error) {
		switch {
		case err != nil:
			h.results <- "DialAsync: " + err.Error()
		case up.Loop() != c.Loop():
			h.results <- "DialAsync: the connection is on another loop"
		default:
			h.results <- "ok"
		}
	})
	if err != nil {
		h.results <- "DialAsync: " + err.Error()
	}
}

func errString(err error) string {
	if err == nil {
		return "nil error"
	}
	return err.Error()
}

// TestDialFromCallback covers the defect "Engine.Dial called from a
// callback blocks its own loop": there it returns ErrOnLoop at once,
// and DialAsync dials on the calling loop without blocking. It also covers
// "no way for a handler to reach its Engine before the first connection"
// (OnStart).
func TestDialFromCallback(t *testing.T) {
	h := &dialingHandler{backend: tcptest.Serve(t, nil), startedE: make(chan *engine.Engine, 1), results: make(chan string, 4)}
	e, addr := startEngine(t, h, engine.Config{LingerTimeout: -1})
	select {
	case got := <-h.startedE:
		if got != e {
			t.Fatal("OnStart got another engine than Start returned")
		}
	default:
		t.Fatal("Start returned without calling OnStart")
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	select {
	case r := <-h.results:
		if r != "ok" {
			t.Fatal(r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no result from the dials in OnOpen")
	}
}

// shutdownOnData shuts its engine down from OnData.
type shutdownOnData struct {
	engine.BaseHandler
	e   atomic.Pointer[engine.Engine]
	got chan error
}

func (h *shutdownOnData) OnData(c *engine.Conn) {
	c.Discard(-1)
	h.got <- h.e.Load().Shutdown(context.Background())
}

// TestShutdownFromCallback covers "Engine methods called from a loop never
// deadlock it": Shutdown inside a callback returns ErrOnLoop at once and
// the engine shuts down in the background.
func TestShutdownFromCallback(t *testing.T) {
	h := &shutdownOnData{got: make(chan error, 1)}
	e, err := engine.Start(h, engine.Config{Addrs: []string{"127.0.0.1:0"}, Loops: 1, Pin: engine.PinOff})
	if err != nil {
		t.Fatal(err)
	}
	h.e.Store(e)
	c, err := net.Dial("tcp", e.Addrs()[0].String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte("stop")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-h.got:
		if !errors.Is(err, engine.ErrOnLoop) {
			t.Fatalf("Shutdown in OnData: %v; want ErrOnLoop", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Shutdown in OnData did not return: it blocked its own loop")
	}
	if n, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("client read after the shutdown: %d, %v; want EOF", n, err)
	}
	_ = c.Close() // the server lingers until our FIN
	if err := e.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown after the one started in OnData: %v", err)
	}
}
