package engine_test

import (
	"fmt"
	"net/netip"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/pinion-net/pinion/engine"
)

// Bounds of TestIdleConnMemory, in bytes per idle connection. The live
// heap of one is its Conn (64 bytes), its slot in the engine's fd table
// (8 bytes per descriptor number; the test's client sockets take every
// other number, so 16 here) and its idle-timeout entry (16 bytes), plus a
// share of partly filled blocks: about 88. What the ramp allocates,
// garbage included, is about 110: nothing on the accept path is thrown
// away. (Before issue 12's changes: 163 and 275 with one loop, 199 and 336
// with two.)
const (
	idleLiveBound  = 112
	idleTotalBound = 128
)

// TestIdleConnMemory opens idle connections to an echo engine, each after
// one 64-byte exchange as in bench/idlemem.sh, and bounds the heap each
// costs: live after a collection, allocated in all during the ramp (what
// RSS shows when no collection has run yet), and the allocations made per
// connection (the Conn and nothing else). It runs over both backends with
// one loop and two (which share one fd table). The clients are raw
// sockets, so that they add nothing to the Go heap.
func TestIdleConnMemory(t *testing.T) {
	if raceEnabled() {
		t.Skip("the race detector's bookkeeping allocates on the Go heap")
	}
	const n = 2000
	for _, io := range ioModes {
		for _, loops := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s/loops=%d", io, loops), func(t *testing.T) {
				t.Setenv("PINION_TEST_IO", io)
				// The default IdleTimeout (2 minutes) arms a deadline per connection.
				cfg := engine.Config{Loops: loops, IO: envIO(t)}
				_, addr := startEngine(t, newEchoHandler(), cfg)
				live, total, mallocs := idleConnCost(t, addr, n)
				t.Logf("per idle connection: %.1f bytes live, %.1f allocated, %.3f allocations", live, total, mallocs)
				if live > idleLiveBound {
					t.Errorf("live heap per idle connection: %.1f bytes, want at most %d", live, idleLiveBound)
				}
				if total > idleTotalBound {
					t.Errorf("heap allocated per idle connection during the ramp: %.1f bytes, want at most %d", total, idleTotalBound)
				}
				if mallocs > 1.05 {
					t.Errorf("allocations per accepted connection: %.3f, want 1 (its Conn)", mallocs)
				}
			})
		}
	}
}

// idleConnCost opens n raw client sockets to the echo server at addr, one
// 64-byte round trip each, and returns what the process heap grew by per
// connection: live bytes after a collection, bytes allocated during the
// ramp, and allocations. The sockets close when the test ends.
func idleConnCost(t *testing.T, addr string, n int) (live, total, mallocs float64) {
	t.Helper()
	ap := netip.MustParseAddrPort(addr)
	sa := &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	msg, buf := make([]byte, 64), make([]byte, 64)
	fds := make([]int, 0, n+64)
	t.Cleanup(func() {
		for _, fd := range fds {
			_ = unix.Close(fd)
		}
	})
	open := func() {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatalf("socket: %v", err)
		}
		fds = append(fds, fd)
		if err := unix.Connect(fd, sa); err != nil {
			t.Fatalf("connect: %v", err)
		}
		if _, err := unix.Write(fd, msg); err != nil {
			t.Fatalf("write: %v", err)
		}
		for got := 0; got < len(buf); {
			k, err := unix.Read(fd, buf[got:])
			if err != nil || k == 0 {
				t.Fatalf("read the echo: %d, %v", k, err)
			}
			got += k
		}
	}
	// Warm up: the loops' pools, slices and first blocks are made once.
	for range 64 {
		open()
	}
	var before, ramp, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range n {
		open()
	}
	runtime.ReadMemStats(&ramp)
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := func(a, b uint64) float64 { return (float64(a) - float64(b)) / float64(n) }
	return per(after.HeapAlloc, before.HeapAlloc), per(ramp.TotalAlloc, before.TotalAlloc), per(ramp.Mallocs, before.Mallocs)
}
