//go:build linux && (amd64 || arm64)

package uring

import (
	"bytes"
	"errors"
	"io"
	"net"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

func TestAcceptMultishot(t *testing.T) {
	r := newRing(t, Config{})
	lfd, addr := listen(t)
	tok := NewToken(lfd, 9)
	if err := r.AcceptMultishot(lfd, tok); err != nil {
		t.Fatal(err)
	}
	const n = 8
	var clients []net.Conn
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		clients = append(clients, c)
	}
	fds := make(map[int]bool)
	reapUntil(t, r, func(c CQE) bool {
		if c.Token != tok.with(OpAccept) || c.Res < 0 || !c.More() {
			t.Fatalf("completion %+v (%v): want an accepted fd with FlagMore", c, c.Err())
		}
		fds[int(c.Res)] = true
		return len(fds) == n
	})
	for fd := range fds {
		// Each accepted fd is a connected, non-blocking, close-on-exec socket.
		if _, err := unix.Getpeername(fd); err != nil {
			t.Errorf("getpeername(%d): %v", fd, err)
		}
		fl, _ := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
		fdfl, _ := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if fl&unix.O_NONBLOCK == 0 || fdfl&unix.FD_CLOEXEC == 0 {
			t.Errorf("fd %d: flags %#x fd flags %#x, want O_NONBLOCK and FD_CLOEXEC", fd, fl, fdfl)
		}
		unix.Close(fd)
	}
	// Cancelling by token ends the multishot accept: its last completion has
	// ECANCELED and no FlagMore.
	if err := r.CancelToken(tok.with(OpAccept), tok); err != nil {
		t.Fatal(err)
	}
	ended, cancelled := false, false
	reapUntil(t, r, func(c CQE) bool {
		switch c.Token.Op() {
		case OpAccept:
			if c.More() || errnoOf(c) != unix.ECANCELED {
				t.Fatalf("accept completion after cancel %+v, want ECANCELED without FlagMore", c)
			}
			ended = true
		case OpCancel:
			if c.Res != 1 {
				t.Fatalf("cancel Res %d, want 1 request cancelled", c.Res)
			}
			cancelled = true
		}
		return ended && cancelled
	})
}

// recvAll reads from the ring into got until want bytes came, recycling each
// buffer right after copying it (hold false) or only once the buffers ran out
// (hold true), re-arming the receive after ENOBUFS. It returns how many
// buffers it saw and how many times the receive was re-armed.
func recvAll(t *testing.T, r *Ring, fd int, want int, hold bool) (got []byte, bufs, rearms int) {
	t.Helper()
	tok := NewToken(fd, 2)
	if err := r.RecvMultishot(fd, tok); err != nil {
		t.Fatal(err)
	}
	var held []CQE
	reapUntil(t, r, func(c CQE) bool {
		if c.Token != tok.with(OpRecv) {
			t.Fatalf("unexpected completion %+v", c)
		}
		if errnoOf(c) == unix.ENOBUFS && !c.More() {
			for _, h := range held {
				r.Recycle(h)
			}
			held = held[:0]
			rearms++
			if err := r.RecvMultishot(fd, tok); err != nil {
				t.Fatal(err)
			}
			return false
		}
		if _, ok := c.Buffer(); c.Res <= 0 || !ok {
			t.Fatalf("receive completion %+v (%v): want bytes in a buffer", c, c.Err())
		}
		got = append(got, r.Bytes(c)...)
		bufs++
		if hold {
			held = append(held, c)
		} else {
			r.Recycle(c)
		}
		if !c.More() {
			t.Fatalf("receive ended early: %+v", c)
		}
		return len(got) >= want
	})
	for _, h := range held {
		r.Recycle(h)
	}
	return got, bufs, rearms
}

// stream writes n patterned bytes into c from another goroutine while
// recvAll receives them on fd, checks that they arrived intact and in
// order, and returns recvAll's counts.
func stream(t *testing.T, r *Ring, fd int, c net.Conn, n int, hold bool) (bufs, rearms int) {
	t.Helper()
	want := pattern(n)
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, err := c.Write(want); err != nil {
			t.Errorf("client write: %v", err)
		}
	})
	got, bufs, rearms := recvAll(t, r, fd, len(want), hold)
	wg.Wait()
	if !bytes.Equal(got, want) {
		t.Fatalf("received %d bytes differ from the %d sent (first difference at %d)", len(got), len(want), firstDiff(got, want))
	}
	return bufs, rearms
}

// pattern returns n bytes that differ from any shifted copy of themselves
// over short distances, so a reordered or repeated buffer shows.
func pattern(n int) []byte {
	p := make([]byte, n)
	x := uint32(2463534242)
	for i := range p {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		p[i] = byte(x)
	}
	return p
}

func TestRecvMultishotInOrder(t *testing.T) {
	for _, hold := range []bool{false, true} {
		name := map[bool]string{false: "recycle-each", true: "hold-until-ENOBUFS"}[hold]
		t.Run(name, func(t *testing.T) {
			// 8 buffers of 256 bytes against 1 MiB: every buffer is reused
			// hundreds of times.
			r := newRing(t, Config{BufferCount: 8, BufferSize: 256})
			fd, c := connPair(t, r)
			const size = 1 << 20
			bufs, rearms := stream(t, r, fd, c, size, hold)
			if bufs < size/256 {
				t.Errorf("%d buffers for %d bytes of 256-byte buffers", bufs, size)
			}
			if hold && (rearms == 0 || r.Stats().NoBuffers == 0) {
				t.Errorf("holding every buffer never ran out of them (rearms %d, stats %+v)", rearms, r.Stats())
			}
			t.Logf("%d buffers, %d re-arms", bufs, rearms)
		})
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestRecvEOF(t *testing.T) {
	r := newRing(t, Config{})
	fd, c := connPair(t, r)
	if err := r.RecvMultishot(fd, NewToken(fd, 1)); err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("bye"))
	c.Close()
	var got []byte
	reapUntil(t, r, func(c CQE) bool {
		if _, ok := c.Buffer(); ok {
			got = append(got, r.Bytes(c)...)
			r.Recycle(c)
			return false
		}
		if c.Res != 0 || c.More() {
			t.Fatalf("completion %+v (%v), want end of file: Res 0 without FlagMore", c, c.Err())
		}
		return true
	})
	if string(got) != "bye" {
		t.Errorf("got %q before end of file, want %q", got, "bye")
	}
}

// sendAll sends bufs gathered, re-sending the unsent rest after a short
// completion, and returns the number of sends it took.
func sendAll(t *testing.T, r *Ring, fd int, bufs [][]byte) int {
	t.Helper()
	tok := NewToken(fd, 4)
	sends := 0
	for len(bufs) > 0 {
		if err := r.Sendmsg(fd, bufs, tok); err != nil {
			t.Fatal(err)
		}
		sends++
		reapUntil(t, r, func(c CQE) bool {
			if c.Token != tok.with(OpSend) || c.Res < 0 {
				t.Fatalf("send completion %+v (%v)", c, c.Err())
			}
			bufs = advance(bufs, int(c.Res))
			return true
		})
	}
	return sends
}

// advance drops n sent bytes from the front of bufs.
func advance(bufs [][]byte, n int) [][]byte {
	for n > 0 && len(bufs) > 0 {
		k := min(n, len(bufs[0]))
		bufs[0] = bufs[0][k:]
		n -= k
		if len(bufs[0]) == 0 {
			bufs = bufs[1:]
		}
	}
	return bufs
}

func TestSendmsgGathered(t *testing.T) {
	r := newRing(t, Config{MaxIovecs: 16})
	fd, c := connPair(t, r)
	want := pattern(3 << 20) // larger than the socket buffer: short sends happen
	var parts [][]byte
	for off, i := 0, 0; off < len(want); i++ {
		n := min(len(want)-off, 1+(i*7919)%300000)
		parts = append(parts, want[off:off+n])
		off += n
	}
	if len(parts) > 16 {
		parts = append(parts[:15], bytes.Join(parts[15:], nil))
	}
	got := make(chan []byte, 1)
	go func() {
		b, err := io.ReadAll(io.LimitReader(c, int64(len(want))))
		if err != nil {
			t.Errorf("client read: %v", err)
		}
		got <- b
	}()
	sends := sendAll(t, r, fd, parts)
	if b := <-got; !bytes.Equal(b, want) {
		t.Fatalf("client got %d bytes differing from the %d sent at %d", len(b), len(want), firstDiff(b, want))
	}
	t.Logf("%d parts in %d sends", len(parts), sends)
	if err := r.Sendmsg(fd, make([][]byte, 17), 0); !errors.Is(err, ErrTooManyBuffers) {
		t.Errorf("Sendmsg of 17 buffers with MaxIovecs 16: %v, want ErrTooManyBuffers", err)
	}
}

func TestSend(t *testing.T) {
	r := newRing(t, Config{})
	fd, c := connPair(t, r)
	if err := r.Send(fd, []byte("hello"), NewToken(fd, 1)); err != nil {
		t.Fatal(err)
	}
	reapUntil(t, r, func(c CQE) bool {
		if c.Token.Op() != OpSend || c.Res != 5 {
			t.Fatalf("send completion %+v, want 5 bytes", c)
		}
		return true
	})
	b := make([]byte, 5)
	if _, err := io.ReadFull(c, b); err != nil || string(b) != "hello" {
		t.Fatalf("client read %q, %v", b, err)
	}
}

// TestCancelAndClose closes a connection with a receive armed: the receive
// ends with ECANCELED, the close succeeds, and the peer sees end of file.
func TestCancelAndClose(t *testing.T) {
	r := newRing(t, Config{})
	lfd, addr := listen(t)
	r.AcceptMultishot(lfd, NewToken(lfd, 1))
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fd := -1
	reapUntil(t, r, func(c CQE) bool { fd = int(c.Res); return c.Token.Op() == OpAccept && fd >= 0 })
	tok := NewToken(fd, 6)
	if err := r.RecvMultishot(fd, tok); err != nil {
		t.Fatal(err)
	}
	if err := r.Submit(); err != nil {
		t.Fatal(err)
	}
	if err := r.CancelAndCloseFD(fd, tok); err != nil {
		t.Fatal(err)
	}
	var recvEnded, cancelled, closed bool
	reapUntil(t, r, func(c CQE) bool {
		switch c.Token.Op() {
		case OpRecv:
			if c.More() || errnoOf(c) != unix.ECANCELED {
				t.Fatalf("receive completion %+v, want ECANCELED without FlagMore", c)
			}
			recvEnded = true
		case OpCancel:
			if c.Res != 1 {
				t.Fatalf("cancel completion %+v (%v), want 1 request cancelled", c, c.Err())
			}
			cancelled = true
		case OpClose:
			if c.Res != 0 {
				t.Fatalf("close completion %+v (%v)", c, c.Err())
			}
			closed = true
		}
		return recvEnded && cancelled && closed
	})
	if n, err := c.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Errorf("peer read after close: %d, %v; want end of file", n, err)
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != unix.EBADF {
		t.Errorf("fd %d still open after the ring's close: %v", fd, err)
	}
}

// TestShutdownHalfClose shuts the write side through the ring: the peer sees
// end of file and can still send.
func TestShutdownHalfClose(t *testing.T) {
	r := newRing(t, Config{})
	fd, c := connPair(t, r)
	if err := r.Shutdown(fd, unix.SHUT_WR, NewToken(fd, 1)); err != nil {
		t.Fatal(err)
	}
	reapUntil(t, r, func(c CQE) bool {
		if c.Token.Op() != OpShutdown || c.Res != 0 {
			t.Fatalf("shutdown completion %+v (%v)", c, c.Err())
		}
		return true
	})
	if n, err := c.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("peer read after SHUT_WR: %d, %v; want end of file", n, err)
	}
	c.Write([]byte("still"))
	got, _, _ := recvAll(t, r, fd, 5, false)
	if string(got) != "still" {
		t.Errorf("after half-close got %q, want %q", got, "still")
	}
}

func TestNetNoFDLeak(t *testing.T) {
	before := openFDs(t)
	t.Run("traffic", func(t *testing.T) {
		r := newRing(t, Config{})
		fd, c := connPair(t, r)
		c.Write([]byte("abc"))
		recvAll(t, r, fd, 3, false)
	})
	if after := openFDs(t); after != before {
		t.Errorf("open fds %d → %d after a ring with traffic", before, after)
	}
}
