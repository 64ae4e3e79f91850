package engine_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"testing"
	"time"

	"github.com/pinion-net/pinion/engine"
)

// h2Echo is a handler that sends back every byte it receives. The optional
// hooks run on the loop and let a test watch or change its behaviour.
type h2Echo struct {
	engine.BaseHandler
	onOpen  func(c *engine.Conn)
	onData  func(c *engine.Conn) bool // true: the hook consumed the input
	onClose func(c *engine.Conn, err error)
	onTick  func()
}

func (h *h2Echo) OnOpen(c *engine.Conn) {
	if h.onOpen != nil {
		h.onOpen(c)
	}
}

func (h *h2Echo) OnData(c *engine.Conn) {
	if h.onData != nil && h.onData(c) {
		return
	}
	b := c.Peek(-1)
	_, _ = c.Write(b)
	c.Discard(len(b))
}

func (h *h2Echo) OnClose(c *engine.Conn, err error) {
	if h.onClose != nil {
		h.onClose(c, err)
	}
}

func (h *h2Echo) OnTick(*engine.Loop) {
	if h.onTick != nil {
		h.onTick()
	}
}

// h2Config returns the base configuration of the tests: one loop on an
// ephemeral loopback port, no CPU pinning.
func h2Config() engine.Config {
	return engine.Config{
		Addrs: []string{"127.0.0.1:0"},
		Loops: 1,
		Pin:   engine.PinOff,
	}
}

// h2Start starts an engine and shuts it down when the test ends.
func h2Start(t testing.TB, h engine.Handler, cfg engine.Config) *engine.Engine {
	t.Helper()
	e, err := engine.Start(h, cfg)
	if err != nil {
		t.Fatalf("engine.Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: got %v, want nil", err)
		}
	})
	return e
}

// h2Dial connects to a and closes the connection when the test ends.
func h2Dial(t testing.TB, a net.Addr) net.Conn {
	t.Helper()
	c, err := net.DialTimeout(a.Network(), a.String(), 5*time.Second)
	if err != nil {
		t.Fatalf("dial %v: %v", a, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// h2RoundTrip writes msg and reads as many bytes back, within 5 seconds.
func h2RoundTrip(t testing.TB, c net.Conn, msg string) {
	t.Helper()
	if err := c.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatalf("SetDeadline: %v", err)
	}
	if _, err := io.WriteString(c, msg); err != nil {
		t.Fatalf("write %q: %v", msg, err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("read echo of %q: %v", msg, err)
	}
	if string(got) != msg {
		t.Fatalf("echo: got %q, want %q", got, msg)
	}
	if err := c.SetDeadline(time.Time{}); err != nil {
		t.Fatalf("SetDeadline: %v", err)
	}
}

// h2ExpectClosed reads from c until the server closes it and fails if
// bytes other than the empty stream arrive first or nothing happens within
// 5 seconds. EOF and a reset both count as closed.
func h2ExpectClosed(t testing.TB, c net.Conn) {
	t.Helper()
	if err := c.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatalf("SetReadDeadline: %v", err)
	}
	var buf [64]byte
	n, err := c.Read(buf[:])
	if n > 0 {
		t.Fatalf("read from a connection the server should close: got %q, want EOF", buf[:n])
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("read: got timeout, want the server to close the connection")
	}
	if err == nil {
		t.Fatalf("read: got no error, want EOF or reset")
	}
}

// h2Eventually polls cond every few milliseconds until it holds or d
// passes, then fails with what.
func h2Eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what)
		}
		<-tick.C
	}
}

// h2Wait waits for ch to be closed (or to deliver) within d.
func h2Wait[T any](t testing.TB, ch <-chan T, d time.Duration, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(d):
		t.Fatalf("after %v: still waiting for %s", d, what)
	}
	var zero T
	return zero
}

// h2LogBuffer collects the text of slog records, safe for the loop and the
// test goroutine at once.
type h2LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *h2LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *h2LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// h2Logger returns a logger writing every record, Debug and up, to a
// buffer.
func h2Logger() (*slog.Logger, *h2LogBuffer) {
	b := new(h2LogBuffer)
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

// h2RaceEnabled reports whether the test binary was built with -race.
func h2RaceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}
