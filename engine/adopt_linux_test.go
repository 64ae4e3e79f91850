package engine_test

import (
	"context"
	"net"
	"os"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/pinion-net/pinion/engine"
)

// reusePortListener returns a loopback TCP listening socket with
// SO_REUSEPORT on addr ("127.0.0.1:0" for a new port), as a file.
func reusePortListener(t *testing.T, addr string) *os.File {
	t.Helper()
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		if err := rc.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
		}); err != nil {
			return err
		}
		return serr
	}}
	l, err := lc.Listen(context.Background(), "tcp4", addr)
	if err != nil {
		t.Fatalf("listen %s: %v", addr, err)
	}
	return listenerFile(t, l)
}

// TestAdoptPerLoopSet hands the engine a set of per-loop SO_REUSEPORT
// sockets of one address, as a hot restart would, to an engine with more
// loops than the set has sockets: each socket is served by its own loop,
// the third loop joins the group with a socket of its own, and every loop
// accepts a share of the connections. The caller's files are closed right
// after Start: the engine serves on its duplicates.
func TestAdoptPerLoopSet(t *testing.T) {
	first := reusePortListener(t, "127.0.0.1:0")
	fa, err := net.FileListener(first)
	if err != nil {
		t.Fatal(err)
	}
	addr := fa.Addr().String()
	_ = fa.Close() // FileListener made its own duplicate
	second := reusePortListener(t, addr)

	cfg := testConfig()
	cfg.Addrs, cfg.Loops, cfg.Balance = nil, 3, engine.ReusePort
	cfg.Listeners = []engine.Listener{
		{File: first, PerLoop: true, Loop: 0},
		{File: second, PerLoop: true, Loop: 1},
	}
	e, _ := startEngine(t, &echoHandler{}, cfg)
	_ = first.Close()
	_ = second.Close()
	if as := e.Addrs(); len(as) != 1 || as[0].String() != addr {
		t.Fatalf("Addrs: got %v, want [%s] (one address for the set)", as, addr)
	}

	const conns = 90 // a loop that receives none of 90: chance 3·(2/3)^90
	for i := range conns {
		c := dial(t, e.Addrs()[0])
		roundTrip(t, c, "conn "+string(rune('a'+i%26)))
		_ = c.Close()
	}
	s := e.Stats()
	for _, l := range s.Loops {
		if l.Accepted == 0 {
			t.Errorf("loop %d accepted none of %d connections: its socket is not in the group (accepted per loop: %d %d %d)",
				l.Loop, conns, s.Loops[0].Accepted, s.Loops[1].Accepted, s.Loops[2].Accepted)
		}
	}
	if s.Accepted != conns {
		t.Errorf("Accepted: got %d, want %d", s.Accepted, conns)
	}
}

// TestListenersHandOver hands an engine's per-loop sockets to a second
// engine, as a hot restart does between two processes, then shuts the
// first one down: the second serves the same address on every loop, and
// the first one's Listeners reports ErrStopped.
func TestListenersHandOver(t *testing.T) {
	cfg := testConfig()
	cfg.Loops, cfg.Balance = 2, engine.ReusePort
	old, err := engine.Start(&echoHandler{}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	addr := old.Addrs()[0]
	ls, err := old.Listeners()
	if err != nil {
		t.Fatalf("Listeners: %v", err)
	}
	if len(ls) != 2 {
		t.Fatalf("Listeners: got %d sockets, want 2 (one per loop)", len(ls))
	}
	for i, l := range ls {
		if !l.PerLoop || l.Loop != i || l.File.Name() != addr.String() {
			t.Errorf("Listeners[%d]: got PerLoop %v, Loop %d, name %q; want true, %d, %q", i, l.PerLoop, l.Loop, l.File.Name(), i, addr)
		}
	}
	cfg.Addrs, cfg.Listeners = nil, ls
	next, _ := startEngine(t, &echoHandler{}, cfg)
	for _, l := range ls {
		_ = l.File.Close()
	}
	if err := old.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown of the old engine: %v", err)
	}
	if _, err := old.Listeners(); err != engine.ErrStopped {
		t.Errorf("Listeners after Shutdown: got %v, want ErrStopped", err)
	}
	const conns = 40 // a loop that receives none of 40: chance 2·2^-40
	for range conns {
		c := dial(t, addr)
		roundTrip(t, c, "after the handover")
		_ = c.Close()
	}
	s := next.Stats()
	if s.Accepted != conns {
		t.Errorf("the new engine accepted %d connections, want %d", s.Accepted, conns)
	}
	for _, l := range s.Loops {
		if l.Accepted == 0 {
			t.Errorf("the new engine's loop %d accepted none of %d connections", l.Loop, conns)
		}
	}
}
