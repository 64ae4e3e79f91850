//go:build linux

package sock_test

import (
	"net"
	"os"
	"testing"

	"github.com/pinion-net/pinion/internal/sock"
	"golang.org/x/sys/unix"
)

// TestMain starts the runtime's network poller before any test runs: its
// epoll fd and wakeup fd are created on first use and stay open, and would
// otherwise show up as a leak in whichever test first touches package net.
func TestMain(m *testing.M) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		panic("start the network poller: " + err.Error())
	}
	ln.Close()
	os.Exit(m.Run())
}

// fdCount returns the number of open fds of this process.
func fdCount(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("read /proc/self/fd: %v", err)
	}
	return len(ents)
}

// checkNoLeak fails t if the process has more fds open when t ends than when
// checkNoLeak was called. Call it first, so its cleanup runs last.
func checkNoLeak(t *testing.T) {
	t.Helper()
	before := fdCount(t)
	t.Cleanup(func() {
		if after := fdCount(t); after != before {
			t.Errorf("open fds: got %d after the test, want %d as before", after, before)
		}
	})
}

// closeFD closes fd when t ends.
func closeFD(t *testing.T, fd int) {
	t.Helper()
	t.Cleanup(func() {
		if err := unix.Close(fd); err != nil {
			t.Errorf("close fd %d: %v", fd, err)
		}
	})
}

// waitFD blocks until fd reports one of events, failing t after 5 seconds.
func waitFD(t *testing.T, fd int, events int16) int16 {
	t.Helper()
	pfd := []unix.PollFd{{Fd: int32(fd), Events: events}}
	for {
		n, err := unix.Poll(pfd, 5000)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			t.Fatalf("poll fd %d: %v", fd, err)
		}
		if n == 0 {
			t.Fatalf("poll fd %d: timed out waiting for events %#x", fd, events)
		}
		return pfd[0].Revents
	}
}

// mustParse parses s or fails t.
func mustParse(t *testing.T, s string) sock.Addr {
	t.Helper()
	a, err := sock.ParseAddr(s)
	if err != nil {
		t.Fatalf("ParseAddr(%q): %v", s, err)
	}
	return a
}

// listen listens on s with the default backlog and closes the fd when t ends.
func listen(t *testing.T, s string, reusePort bool) (int, net.Addr) {
	t.Helper()
	fd, bound, err := sock.Listen(mustParse(t, s), reusePort, 0)
	if err != nil {
		t.Fatalf("Listen(%q): %v", s, err)
	}
	closeFD(t, fd)
	return fd, bound
}

// acceptOne waits for a pending connection on lfd and accepts it; the fd is
// closed when t ends.
func acceptOne(t *testing.T, lfd int) int {
	t.Helper()
	waitFD(t, lfd, unix.POLLIN)
	fd, err := sock.Accept(lfd)
	if err != nil {
		t.Fatalf("Accept: %v", err)
	}
	closeFD(t, fd)
	return fd
}

// checkFlags fails t unless fd is non-blocking and close-on-exec.
func checkFlags(t *testing.T, fd int) {
	t.Helper()
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		t.Fatalf("fcntl F_GETFL: %v", err)
	}
	if fl&unix.O_NONBLOCK == 0 {
		t.Errorf("fd %d: O_NONBLOCK not set (flags %#x)", fd, fl)
	}
	fdfl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	if err != nil {
		t.Fatalf("fcntl F_GETFD: %v", err)
	}
	if fdfl&unix.FD_CLOEXEC == 0 {
		t.Errorf("fd %d: FD_CLOEXEC not set (flags %#x)", fd, fdfl)
	}
}
