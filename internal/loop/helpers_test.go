package loop

import (
	"net"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// fnHandler is a Handler whose callbacks are the functions set on it; a nil
// one does what BaseHandler does.
type fnHandler struct {
	BaseHandler
	open  func(c *Conn)
	data  func(c *Conn)
	close func(c *Conn, err error)
	tick  func(l *Loop)
}

func (h *fnHandler) OnOpen(c *Conn) {
	if h.open != nil {
		h.open(c)
	}
}

func (h *fnHandler) OnData(c *Conn) {
	if h.data != nil {
		h.data(c)
		return
	}
	c.Discard(-1)
}

func (h *fnHandler) OnClose(c *Conn, err error) {
	if h.close != nil {
		h.close(c, err)
	}
}

func (h *fnHandler) OnTick(l *Loop) {
	if h.tick != nil {
		h.tick(l)
	}
}

// runLoop starts a loop with cfg on a goroutine of its own and aborts it
// when the test ends.
func runLoop(t testing.TB, cfg Config) *Loop {
	t.Helper()
	if cfg.IO == IOEpoll {
		cfg.IO = envIO(t)
	}
	l, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	go l.Run()
	if err := recv(t, l.Started(), "the loop's start"); err != nil {
		t.Fatalf("loop %v: %v", cfg.IO, err)
	}
	t.Cleanup(func() {
		_ = l.Abort()
		waitDone(t, l)
	})
	return l
}

// waitDone waits for l's Run to return.
func waitDone(t testing.TB, l *Loop) {
	t.Helper()
	select {
	case <-l.Done():
	case <-time.After(10 * time.Second):
		t.Fatalf("loop did not stop within 10s")
	}
}

// adoptPair makes one end of a unix socketpair a connection of l and
// returns the other end.
func adoptPair(t testing.TB, l *Loop) net.Conn { return adoptFilled(t, l, nil) }

// adoptFilled is adoptPair after writing pre into the other end, so that
// the loop's first read finds all of pre waiting.
func adoptFilled(t testing.TB, l *Loop, pre []byte) net.Conn {
	t.Helper()
	// SOCK_CLOEXEC is not on every system this builds for (darwin): the
	// flag is set after: this package's tests start no process that
	// could inherit the descriptors in between.
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatalf("socketpair: %v", err)
	}
	unix.CloseOnExec(fds[0])
	unix.CloseOnExec(fds[1])
	if len(pre) > 0 {
		if n, err := unix.Write(fds[1], pre); err != nil || n != len(pre) {
			t.Fatalf("prefill: wrote %d of %d bytes: %v", n, len(pre), err)
		}
	}
	if err := unix.SetNonblock(fds[0], true); err != nil {
		t.Fatalf("set non-blocking: %v", err)
	}
	f := os.NewFile(uintptr(fds[1]), "peer")
	peer, err := net.FileConn(f)
	_ = f.Close()
	if err != nil {
		t.Fatalf("FileConn: %v", err)
	}
	t.Cleanup(func() { _ = peer.Close() })
	if err := l.post(task{kind: taskAdopt, fd: fds[0]}); err != nil {
		t.Fatalf("adopt: %v", err)
	}
	return peer
}

// waitStats polls the loop's published stats until ok holds, for up to
// 10s, and returns the snapshot that satisfied it.
func waitStats(t testing.TB, l *Loop, ok func(Stats) bool) Stats {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := l.Stats()
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("stats never reached the wanted state: %+v", s)
		}
		time.Sleep(time.Millisecond) // polling: a busy loop publishes every StatsInterval
	}
}

// recv waits up to 10s for a value on ch.
func recv[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// refusedAddr returns a loopback TCP address nobody listens on.
func refusedAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}
