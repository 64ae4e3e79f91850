//go:build linux && (amd64 || arm64)

package uring

// Two minimal echo servers, one on a Ring and one on epoll, each on one
// locked, pinned thread, plus an epoll client on another: the harness of
// BenchmarkEcho, which compares system calls and server CPU per request of
// the two I/O models with everything else kept as small and as equal as
// possible. TestEchoServers checks that both echo every byte in order.

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"
)

// echoServer is a running server: its listening address, the number of
// system calls it made, and the kernel id of its thread.
type echoServer struct {
	port     int
	syscalls atomic.Uint64 // published by the server thread once per loop turn
	accepted atomic.Uint64
	tid      int
	quit     atomic.Bool
	stop     func() // makes the server return
	done     chan error
}

// pinThread locks the calling goroutine to its thread and the thread to cpu
// (the per-thread equivalent of taskset). It returns an undo function.
func pinThread(cpu int) (undo func(), err error) {
	runtime.LockOSThread()
	var old, set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		runtime.UnlockOSThread()
		return nil, err
	}
	set.Set(cpu)
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		runtime.UnlockOSThread()
		return nil, err
	}
	return func() { unix.SchedSetaffinity(0, &old); runtime.UnlockOSThread() }, nil
}

// startEcho starts the server of the given kind ("uring", "uring-direct" or
// "epoll") on a thread pinned to cpu.
func startEcho(kind string, cpu int) (*echoServer, error) {
	lfd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	if err := unix.Bind(lfd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		unix.Close(lfd)
		return nil, err
	}
	// Accepted sockets inherit TCP_NODELAY from the listener, so no server
	// needs a system call per connection for it (and direct descriptors
	// could not take one).
	if err := unix.SetsockoptInt(lfd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1); err != nil {
		unix.Close(lfd)
		return nil, err
	}
	if err := unix.Listen(lfd, 4096); err != nil {
		unix.Close(lfd)
		return nil, err
	}
	sa, _ := unix.Getsockname(lfd)
	s := &echoServer{port: sa.(*unix.SockaddrInet4).Port, done: make(chan error, 1)}
	ready := make(chan error, 1)
	go func() {
		undo, err := pinThread(cpu)
		if err != nil {
			unix.Close(lfd)
			ready <- err
			return
		}
		s.tid = unix.Gettid()
		switch kind {
		case "uring":
			err = s.serveUring(lfd, false, ready)
		case "uring-direct":
			err = s.serveUring(lfd, true, ready)
		default:
			err = s.serveEpoll(lfd, ready)
		}
		unix.Close(lfd)
		undo()
		s.done <- err // last: close returns only once every fd is closed
	}()
	if err := <-ready; err != nil {
		return nil, err
	}
	return s, nil
}

// close stops the server and returns its error.
func (s *echoServer) close() error {
	s.quit.Store(true)
	s.stop()
	return <-s.done
}

// cpuNanos returns the CPU time of the server thread, read through the
// thread's CPU clock (MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED) in the kernel).
func (s *echoServer) cpuNanos() int64 {
	var ts unix.Timespec
	unix.ClockGettime(int32(^s.tid<<3|6), &ts)
	return ts.Nano()
}

// ticks returns the user and system clock ticks of the server thread.
func (s *echoServer) ticks() (user, sys int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/self/task/%d/stat", s.tid))
	if err != nil {
		return 0, 0
	}
	// Fields after the command name, which ends with the last ')'.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	user, _ = strconv.ParseInt(f[11], 10, 64)
	sys, _ = strconv.ParseInt(f[12], 10, 64)
	return user, sys
}

// TestEchoServers checks the benchmark's two servers: every byte comes back,
// in order, on every connection, over several rounds.
func TestEchoServers(t *testing.T) {
	for _, kind := range []string{"uring", "uring-direct", "epoll"} {
		t.Run(kind, func(t *testing.T) {
			before := openFDs(t)
			s, err := startEcho(kind, 0)
			if err != nil {
				t.Fatal(err)
			}
			c, err := dialEcho(s.port, 50, 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			c.check = true
			const rounds = 20
			for range rounds {
				if err := c.round(); err != nil {
					t.Fatal(err)
				}
			}
			for _, fd := range c.fds {
				want := strings.Repeat(string(c.msg), rounds)
				if string(c.got[fd]) != want {
					t.Fatalf("fd %d: got %d bytes, want %d, differing at %d", fd, len(c.got[fd]), len(want), firstDiff(c.got[fd], []byte(want)))
				}
			}
			c.close()
			if err := s.close(); err != nil {
				t.Fatal(err)
			}
			if after := openFDs(t); after != before {
				t.Errorf("open fds %d → %d", before, after)
			}
		})
	}
}
