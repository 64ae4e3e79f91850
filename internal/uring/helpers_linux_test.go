//go:build linux && (amd64 || arm64)

package uring

import (
	"errors"
	"net"
	"os"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// testDeadline bounds every wait in these tests; reaching it is a failure,
// never a pass.
const testDeadline = 10 * time.Second

// newRing locks the test goroutine to its thread (the single-issuer modes
// need it) and returns a ring closed at cleanup.
func newRing(t *testing.T, cfg Config) *Ring {
	t.Helper()
	runtime.LockOSThread()
	r, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return r
}

// reapUntil submits, waits and reaps, handing each completion to f, until f
// returns true; it fails the test after testDeadline.
func reapUntil(t *testing.T, r *Ring, f func(CQE) bool) {
	t.Helper()
	var cqes [64]CQE
	deadline := time.Now().Add(testDeadline)
	for time.Now().Before(deadline) {
		if err := r.SubmitAndWait(time.Second); err != nil {
			t.Fatalf("SubmitAndWait: %v", err)
		}
		n := r.Reap(cqes[:])
		for _, c := range cqes[:n] {
			if f(c) {
				return
			}
		}
	}
	t.Fatalf("no expected completion within %v", testDeadline)
}

// listen returns a non-blocking listening TCP socket on loopback and its
// address, closed at cleanup.
func listen(t *testing.T) (int, string) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 1024); err != nil {
		t.Fatal(err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	in := sa.(*unix.SockaddrInet4)
	return fd, (&net.TCPAddr{IP: in.Addr[:], Port: in.Port}).String()
}

// connPair returns a server-side fd accepted through the ring and the client
// net.Conn, both closed at cleanup.
func connPair(t *testing.T, r *Ring) (int, net.Conn) {
	t.Helper()
	lfd, addr := listen(t)
	if err := r.AcceptMultishot(lfd, NewToken(lfd, 1)); err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fd := -1
	reapUntil(t, r, func(c CQE) bool {
		if c.Token.Op() != OpAccept || c.Res < 0 {
			t.Fatalf("unexpected completion %+v (%v)", c, c.Err())
		}
		fd = int(c.Res)
		return true
	})
	if err := r.CancelToken(NewToken(lfd, 1).with(OpAccept), NewToken(lfd, 1)); err != nil {
		t.Fatal(err)
	}
	ended, cancelled := false, false
	reapUntil(t, r, func(c CQE) bool {
		switch c.Token.Op() {
		case OpAccept:
			ended = !c.More()
		case OpCancel:
			cancelled = true
		}
		return ended && cancelled
	})
	t.Cleanup(func() { unix.Close(fd) })
	return fd, c
}

// openFDs counts the process's open file descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// errnoOf returns the errno of c, or 0.
func errnoOf(c CQE) unix.Errno {
	var e unix.Errno
	if errors.As(c.Err(), &e) {
		return e
	}
	return 0
}
