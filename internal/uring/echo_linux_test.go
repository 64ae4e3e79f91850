//go:build linux && (amd64 || arm64)

package uring

// Two minimal echo servers, one on a Ring and one on epoll, each on one
// locked, pinned thread, plus an epoll client on another: the harness of
// BenchmarkEcho, which compares system calls and server CPU per request of
// the two I/O models with everything else kept as small and as equal as
// possible. TestEchoServers checks that both echo every byte in order.

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

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

// startEcho starts the server of the given kind ("uring" or "epoll") on a
// thread pinned to cpu.
func startEcho(kind string, cpu int) (*echoServer, error) {
	lfd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	if err := unix.Bind(lfd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
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
		if kind == "uring" {
			err = s.serveUring(lfd, ready)
		} else {
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

// serveEpoll is the readiness model as pinion's loop runs it: level-triggered
// epoll, read until a short read, write what was read at once.
func (s *echoServer) serveEpoll(lfd int, ready chan<- error) error {
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		ready <- err
		return nil
	}
	defer unix.Close(ep)
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		ready <- err
		return nil
	}
	defer unix.Close(efd)
	for _, fd := range []int{lfd, efd} {
		if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}); err != nil {
			ready <- err
			return nil
		}
	}
	s.stop = func() { unix.Write(efd, []byte{1, 0, 0, 0, 0, 0, 0, 0}) }
	ready <- nil
	conns := make(map[int]bool)
	defer func() {
		for fd := range conns {
			unix.Close(fd)
		}
	}()
	var events [512]unix.EpollEvent
	buf := make([]byte, 64<<10)
	var calls uint64
	for !s.quit.Load() {
		n, err := unix.EpollWait(ep, events[:], -1)
		calls++
		if err != nil && err != unix.EINTR {
			return fmt.Errorf("epoll_wait: %w", err)
		}
		for _, ev := range events[:max(n, 0)] {
			fd := int(ev.Fd)
			switch fd {
			case efd:
				continue
			case lfd:
				for {
					nfd, _, err := unix.Accept4(lfd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
					calls++
					if err != nil {
						break
					}
					unix.SetsockoptInt(nfd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
					unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, nfd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(nfd)})
					conns[nfd] = true
					s.accepted.Add(1)
				}
				continue
			}
			for {
				r, err := unix.Read(fd, buf)
				calls++
				if r > 0 {
					for off := 0; off < r; {
						w, err := unix.Write(fd, buf[off:r])
						calls++
						if err != nil {
							return fmt.Errorf("write: %w (the benchmark never fills a socket buffer)", err)
						}
						off += w
					}
					if r < len(buf) {
						break
					}
					continue
				}
				if err == unix.EAGAIN {
					break
				}
				unix.EpollCtl(ep, unix.EPOLL_CTL_DEL, fd, nil)
				unix.Close(fd)
				delete(conns, fd)
				break
			}
		}
		s.syscalls.Store(calls)
	}
	return nil
}

// span is a run of received bytes in a provided buffer.
type span struct {
	bid      uint16
	off, end int32
}

// uconn is what the ring server keeps per connection.
type uconn struct {
	gen      uint32
	open     bool
	sending  bool   // a send is in flight: at most one per socket
	inflight []span // the bytes of that send
	pending  []span // received, not yet sent
	dirty    bool   // on the list of connections to send for this turn
}

// serveUring is the completion model: multishot accept, multishot receive
// into the shared buffer ring, one gathered send in flight per connection,
// buffers recycled when their send completes, and one io_uring_enter per
// loop turn.
func (s *echoServer) serveUring(lfd int, ready chan<- error) error {
	r, err := New(Config{Entries: 1024, BufferCount: 4096, BufferSize: 2048})
	if err != nil {
		ready <- err
		return nil
	}
	defer r.Close()
	s.stop = func() { r.Wake() }
	if err := r.AcceptMultishot(lfd, NewToken(lfd, 0)); err != nil {
		ready <- err
		return nil
	}
	ready <- nil
	conns := make([]uconn, 1024)
	defer func() {
		for fd := range conns {
			if conns[fd].open {
				unix.Close(fd)
			}
		}
	}()
	var cqes [1024]CQE
	var dirty, rearm []int
	closing := 0 // closes submitted whose completion has not come
	var iov [][]byte
	for !s.quit.Load() {
		if err := r.SubmitAndWait(-1); err != nil {
			return err
		}
		n := r.Reap(cqes[:])
		for _, c := range cqes[:n] {
			fd := c.Token.FD()
			switch c.Token.Op() {
			case OpAccept:
				if c.Res >= 0 {
					nfd := int(c.Res)
					for nfd >= len(conns) {
						conns = append(conns, make([]uconn, len(conns))...)
					}
					cn := &conns[nfd]
					cn.gen++
					cn.open = true
					// Setup, outside what the benchmark counts, as for epoll.
					unix.SetsockoptInt(nfd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
					r.RecvMultishot(nfd, NewToken(nfd, cn.gen))
					s.accepted.Add(1)
				}
				if !c.More() {
					r.AcceptMultishot(lfd, NewToken(lfd, 0))
				}
				continue
			}
			if c.Token.Op() == OpClose {
				closing--
				continue
			}
			cn := &conns[fd]
			if !cn.open || c.Token.Gen() != cn.gen&genMask {
				// A completion for an earlier owner of the fd number.
				if bid, ok := c.Buffer(); ok {
					r.Recycle(bid)
				}
				continue
			}
			switch c.Token.Op() {
			case OpRecv:
				if bid, ok := c.Buffer(); ok {
					cn.pending = append(cn.pending, span{bid: bid, end: c.Res})
					if !cn.dirty {
						cn.dirty = true
						dirty = append(dirty, fd)
					}
				}
				if !c.More() {
					if errnoOf(c) == unix.ENOBUFS {
						rearm = append(rearm, fd)
					} else {
						s.closeConn(r, fd, cn)
						closing++
					}
				}
			case OpSend:
				if c.Res < 0 {
					s.closeConn(r, fd, cn)
					closing++
					continue
				}
				cn.sending = false
				left, done := c.Res, 0
				for i := range cn.inflight {
					sp := &cn.inflight[i]
					k := min(left, sp.end-sp.off)
					sp.off += k
					left -= k
					if sp.off < sp.end {
						break
					}
					r.Recycle(sp.bid)
					done++
				}
				// Shift down rather than reslice, so the slice keeps its
				// capacity and the steady state allocates nothing.
				cn.inflight = cn.inflight[:copy(cn.inflight, cn.inflight[done:])]
				if (len(cn.inflight) > 0 || len(cn.pending) > 0) && !cn.dirty {
					cn.dirty = true
					dirty = append(dirty, fd)
				}
			}
		}
		// One gathered send per connection per turn, after every completion
		// of the turn is in.
		for _, fd := range dirty {
			cn := &conns[fd]
			cn.dirty = false
			if !cn.open || cn.sending {
				continue
			}
			cn.inflight = append(cn.inflight, cn.pending...)
			cn.pending = cn.pending[:0]
			if len(cn.inflight) == 0 {
				continue
			}
			iov = iov[:0]
			for _, sp := range cn.inflight {
				iov = append(iov, r.Buffer(sp.bid, int(sp.end))[sp.off:])
			}
			tok := NewToken(fd, cn.gen)
			if len(iov) == 1 {
				err = r.Send(fd, iov[0], tok)
			} else {
				err = r.Sendmsg(fd, iov[:min(len(iov), r.cfg.MaxIovecs)], tok)
			}
			if err != nil {
				return err
			}
			cn.sending = true
		}
		dirty = dirty[:0]
		for _, fd := range rearm {
			if conns[fd].open {
				r.RecvMultishot(fd, NewToken(fd, conns[fd].gen))
			}
		}
		rearm = rearm[:0]
		s.syscalls.Store(r.Stats().Enters)
	}
	// A close queued through the ring may need more than one enter to run
	// (the cancel linked before it completes first), and closing the ring
	// cancels whatever has not run: wait for every close before the ring
	// goes, or its fd leaks.
	deadline := time.Now().Add(testDeadline)
	for closing > 0 && time.Now().Before(deadline) {
		if err := r.SubmitAndWait(time.Second); err != nil {
			return err
		}
		for _, c := range cqes[:r.Reap(cqes[:])] {
			if c.Token.Op() == OpClose {
				closing--
			}
		}
	}
	if closing > 0 {
		return fmt.Errorf("%d closes never completed", closing)
	}
	return nil
}

// closeConn closes fd through the ring after cancelling what is armed on it,
// and recycles the buffers it held. A send still in flight completes with
// ECANCELED; the connection is no longer open then, so the completion is
// dropped, and its buffers are recycled at the next accept of that fd number
// (which a benchmark never reaches).
func (s *echoServer) closeConn(r *Ring, fd int, cn *uconn) {
	for _, sp := range cn.pending {
		r.Recycle(sp.bid)
	}
	if !cn.sending {
		for _, sp := range cn.inflight {
			r.Recycle(sp.bid)
		}
		cn.inflight = cn.inflight[:0]
	}
	cn.pending = cn.pending[:0]
	cn.open = false
	r.CancelAndCloseFD(fd, NewToken(fd, cn.gen))
}

// echoClient drives conns connections from the calling thread, pipeline
// messages of size bytes per connection per round.
type echoClient struct {
	ep    int
	fds   []int
	msg   []byte
	need  map[int]int
	rbuf  []byte
	check bool // compare every byte (tests), not only count them (benchmarks)
	got   map[int][]byte
}

func dialEcho(port, conns, pipeline, size int) (*echoClient, error) {
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	c := &echoClient{ep: ep, msg: make([]byte, pipeline*size), need: make(map[int]int, conns), rbuf: make([]byte, 64<<10), got: make(map[int][]byte)}
	for i := range c.msg {
		c.msg[i] = byte(i*7 + i/size)
	}
	for range conns {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			c.close()
			return nil, err
		}
		c.fds = append(c.fds, fd)
		if err := unix.Connect(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: port}); err != nil {
			c.close()
			return nil, err
		}
		unix.SetNonblock(fd, true)
		unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
		if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}); err != nil {
			c.close()
			return nil, err
		}
	}
	return c, nil
}

// round sends the pipelined messages on every connection and waits for all
// of them to come back.
func (c *echoClient) round() error {
	for _, fd := range c.fds {
		if n, err := unix.Write(fd, c.msg); n != len(c.msg) {
			return fmt.Errorf("client write %d of %d: %v", n, len(c.msg), err)
		}
		c.need[fd] = len(c.msg)
	}
	left := len(c.fds)
	var events [512]unix.EpollEvent
	for left > 0 {
		n, err := unix.EpollWait(c.ep, events[:], int(testDeadline.Milliseconds()))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return errors.New("client: no echo within the deadline")
		}
		for _, ev := range events[:n] {
			fd := int(ev.Fd)
			for {
				r, err := unix.Read(fd, c.rbuf)
				if r <= 0 {
					if err == unix.EAGAIN {
						break
					}
					return fmt.Errorf("client read: %d, %v", r, err)
				}
				if c.check {
					c.got[fd] = append(c.got[fd], c.rbuf[:r]...)
				}
				c.need[fd] -= r
				if c.need[fd] == 0 {
					left--
				}
				if c.need[fd] < 0 {
					return fmt.Errorf("client: %d bytes too many", -c.need[fd])
				}
				if r < len(c.rbuf) {
					break
				}
			}
		}
	}
	return nil
}

func (c *echoClient) close() {
	for _, fd := range c.fds {
		unix.Close(fd)
	}
	unix.Close(c.ep)
}

// TestEchoServers checks the benchmark's two servers: every byte comes back,
// in order, on every connection, over several rounds.
func TestEchoServers(t *testing.T) {
	for _, kind := range []string{"uring", "epoll"} {
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
