//go:build linux && (amd64 || arm64)

package uring

import (
	"bytes"
	"fmt"
	"net"
	"testing"
)

// bufModes are the two ways a ring's provided buffers are consumed: as
// the kernel allows by default (incremental from Linux 6.12), and whole,
// as before 6.12 (the fallback when the kernel refuses the flag).
var bufModes = []struct {
	name  string
	whole bool
}{{"incremental", false}, {"whole", true}}

// TestBufferWindow checks that the ring offers few buffers until it runs
// out: receives that each return their buffer before the next keep using
// the first window's buffers (so only their pages become resident, not
// the whole 64 KiB here), and a receiver that holds its buffers meets
// ENOBUFS, which widens the window, and then gets every byte in order.
func TestBufferWindow(t *testing.T) {
	for _, m := range bufModes {
		t.Run(m.name, func(t *testing.T) {
			const count, size = 256, 256
			r := newRing(t, Config{BufferCount: count, BufferSize: size, WholeBuffers: m.whole})
			first := r.bufs.firstWindow()
			fd, c := connPair(t, r)
			tok := NewToken(fd, 2)
			if err := r.RecvMultishot(fd, tok); err != nil {
				t.Fatal(err)
			}
			used := map[uint16]bool{}
			msg := []byte("one message at a time")
			for i := range 200 {
				if _, err := c.Write(msg); err != nil {
					t.Fatalf("client write %d: %v", i, err)
				}
				var got []byte
				reapUntil(t, r, func(e CQE) bool {
					bid, ok := e.Buffer()
					if e.Token != tok.with(OpRecv) || e.Res <= 0 || !ok || !e.More() {
						t.Fatalf("completion %+v (%v), want bytes in a buffer from the armed receive", e, e.Err())
					}
					used[bid] = true
					got = append(got, r.Bytes(e)...)
					r.Recycle(e)
					return len(got) >= len(msg)
				})
				if !bytes.Equal(got, msg) {
					t.Fatalf("message %d: got %q, want %q", i, got, msg)
				}
			}
			if len(used) > first || r.Stats().NoBuffers != 0 {
				t.Fatalf("200 receives one at a time used %d distinct buffers (ENOBUFS %d), want at most %d and none",
					len(used), r.Stats().NoBuffers, first)
			}
			if err := r.CancelToken(tok.with(OpRecv), tok); err != nil {
				t.Fatal(err)
			}
			reapUntil(t, r, func(e CQE) bool {
				r.Recycle(e)
				return e.Token.Op() == OpRecv && !e.More()
			})

			// Holding every buffer until ENOBUFS: the window widens.
			_, rearms := stream(t, r, fd, c, 1<<18, true)
			if rearms == 0 || r.bufs.window <= first {
				t.Errorf("after holding buffers: %d re-arms, window %d; want ENOBUFS to widen it past %d", rearms, r.bufs.window, first)
			}
			if rearms > 0 && r.bufs.window > first<<rearms {
				t.Errorf("window %d after %d enters that ran out; want it doubled at most once per enter (%d)", r.bufs.window, rearms, first<<rearms)
			}
			// Every completion recycled: the window's worth is offered
			// again (with incremental consumption, the one the kernel is
			// filling among them), the rest waits in free.
			if b := &r.bufs; b.offered != b.window || len(b.free) != count-b.window {
				t.Errorf("after recycling everything: %d offered, %d free, window %d of %d", b.offered, len(b.free), b.window, count)
			}
		})
	}
}

// TestIncrementalBuffers checks incremental consumption with many
// connections: small messages from 32 connections, interleaved, share
// buffers instead of taking one each; each connection's bytes arrive
// intact and in order although its pieces sit at offsets inside shared
// buffers; a buffer whose pieces are still held is not handed out again
// (every piece is held until the end of its round); and a burst of 1,024
// receives (40 KiB) uses no more buffers than the first window offers.
func TestIncrementalBuffers(t *testing.T) {
	r := newRing(t, Config{BufferCount: 64, BufferSize: 4096})
	if !r.Incremental() {
		t.Skip("the kernel refused incremental consumption (IOU_PBUF_RING_INC, Linux 6.12)")
	}
	const conns, rounds, size = 32, 32, 40
	fds := make([]int, conns)
	clients := make([]net.Conn, conns)
	for i := range conns {
		fds[i], clients[i] = connPair(t, r)
		if err := r.RecvMultishot(fds[i], NewToken(fds[i], 3)); err != nil {
			t.Fatal(err)
		}
	}
	got := make(map[int][]byte, conns)
	sharers := map[uint16]map[int]bool{} // buffer → connections with a piece in it
	used := map[uint16]bool{}
	for round := range rounds {
		for i, c := range clients {
			if _, err := c.Write(message(i, round, size)); err != nil {
				t.Fatalf("client %d write: %v", i, err)
			}
		}
		var held []CQE
		n := 0
		reapUntil(t, r, func(e CQE) bool {
			bid, ok := e.Buffer()
			if e.Token.Op() != OpRecv || e.Res <= 0 || !ok || !e.More() {
				t.Fatalf("completion %+v (%v), want bytes in a buffer from an armed receive", e, e.Err())
			}
			fd := e.Token.FD()
			got[fd] = append(got[fd], r.Bytes(e)...)
			used[bid] = true
			if sharers[bid] == nil {
				sharers[bid] = map[int]bool{}
			}
			sharers[bid][fd] = true
			held = append(held, e)
			n += int(e.Res)
			return n == conns*size
		})
		for _, e := range held {
			r.Recycle(e)
		}
	}
	for i, fd := range fds {
		var want []byte
		for round := range rounds {
			want = append(want, message(i, round, size)...)
		}
		if !bytes.Equal(got[fd], want) {
			t.Fatalf("connection %d received %q, want %q", i, got[fd], want)
		}
	}
	most := 0
	for _, s := range sharers {
		most = max(most, len(s))
	}
	if most < 2 {
		t.Errorf("no buffer held pieces of two connections: incremental consumption is not sharing buffers")
	}
	if first := r.bufs.firstWindow(); len(used) > first || r.Stats().NoBuffers != 0 {
		t.Errorf("%d receives of %d bytes used %d buffers (ENOBUFS %d), want at most the first window's %d and none",
			conns*rounds, size, len(used), r.Stats().NoBuffers, first)
	}
}

// message returns a size-byte message naming its connection and round.
func message(conn, round, size int) []byte {
	m := fmt.Appendf(nil, "connection %02d round %02d ", conn, round)
	for len(m) < size {
		m = append(m, byte('a'+len(m)%26))
	}
	return m[:size]
}

// TestReleaseBuffers checks that ReleaseBuffers makes the receive
// buffers' pages non-resident (mincore) once receives touched them, and
// that receiving afterwards still delivers the bytes intact, with the
// kernel part-way through a buffer (incremental) or not.
func TestReleaseBuffers(t *testing.T) {
	for _, m := range bufModes {
		t.Run(m.name, func(t *testing.T) {
			r := newRing(t, Config{BufferCount: 16, BufferSize: 4096, WholeBuffers: m.whole})
			fd, c := connPair(t, r)
			tok := NewToken(fd, 2)
			if err := r.RecvMultishot(fd, tok); err != nil {
				t.Fatal(err)
			}
			exchange := func(msg string) {
				t.Helper()
				if _, err := c.Write([]byte(msg)); err != nil {
					t.Fatalf("client write: %v", err)
				}
				var got []byte
				reapUntil(t, r, func(e CQE) bool {
					if _, ok := e.Buffer(); e.Res <= 0 || !ok {
						t.Fatalf("completion %+v (%v), want bytes in a buffer", e, e.Err())
					}
					got = append(got, r.Bytes(e)...)
					r.Recycle(e)
					return len(got) >= len(msg)
				})
				if string(got) != msg {
					t.Fatalf("received %q, want %q", got, msg)
				}
			}
			resident := func() int {
				n, err := r.ResidentBuffers()
				if err != nil {
					t.Fatalf("ResidentBuffers: %v", err)
				}
				return n
			}
			for i := range 8 {
				exchange(fmt.Sprintf("message %d", i))
			}
			if !r.BuffersUsed() || resident() == 0 {
				t.Fatalf("after 8 receives: used %v, %d pages resident; want used and some resident", r.BuffersUsed(), resident())
			}
			if err := r.ReleaseBuffers(); err != nil {
				t.Fatalf("ReleaseBuffers: %v", err)
			}
			if n := resident(); r.BuffersUsed() || n != 0 {
				t.Fatalf("after ReleaseBuffers: used %v, %d pages resident; want neither", r.BuffersUsed(), n)
			}
			for i := range 8 {
				exchange(fmt.Sprintf("after the release %d", i))
			}
		})
	}
}

// TestRecycleTwicePanics checks that a second Recycle of one completion,
// which would hand the kernel a buffer still in use, is caught.
func TestRecycleTwicePanics(t *testing.T) {
	r := newRing(t, Config{})
	fd, c := connPair(t, r)
	if err := r.RecvMultishot(fd, NewToken(fd, 2)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("once")); err != nil {
		t.Fatal(err)
	}
	var e CQE
	reapUntil(t, r, func(c CQE) bool { e = c; return true })
	r.Recycle(e)
	defer func() {
		if recover() == nil {
			t.Errorf("a second Recycle of the same completion did not panic")
		}
	}()
	r.Recycle(e)
}

// TestJoin checks that Join gives the bytes of a receive that went on from
// one buffer into others as one slice: in place where each piece directly
// follows the one before it in memory, copied into the scratch where the
// ring's window wrapped to a buffer elsewhere; and that it panics rather
// than write past a scratch too small.
func TestJoin(t *testing.T) {
	r := newRing(t, Config{BufferCount: 16, BufferSize: 256})
	if !r.Incremental() {
		t.Skip("the kernel refused incremental consumption (IOU_PBUF_RING_INC, Linux 6.12)")
	}
	fd, c := connPair(t, r)
	if err := r.RecvMultishot(fd, NewToken(fd, 2)); err != nil {
		t.Fatal(err)
	}
	scratch := make([]byte, 1024)
	inPlace, copied := 0, 0
	for i, size := range []int{700, 600, 500, 650} { // at most 3 buffers: all are held until the join
		want := pattern(size)[:size]
		want[0] = byte(i)
		if _, err := c.Write(want); err != nil {
			t.Fatal(err)
		}
		var es []CQE
		n := 0
		reapUntil(t, r, func(e CQE) bool {
			if e.Res <= 0 {
				t.Fatalf("message %d: completion %+v (%v), want bytes", i, e, e.Err())
			}
			es = append(es, e)
			n += int(e.Res)
			return n >= size
		})
		got := r.Join(es, scratch)
		if !bytes.Equal(got, want) {
			t.Fatalf("message %d: Join of %d completions gave %d bytes that differ from the %d sent", i, len(es), len(got), size)
		}
		if &got[0] != &scratch[0] {
			inPlace++
		} else {
			copied++
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("message %d: Join into a scratch of 1 byte did not panic", i)
					}
				}()
				r.Join(es, scratch[:1:1])
			}()
		}
		for _, e := range es {
			r.Recycle(e)
		}
	}
	if inPlace == 0 || copied == 0 {
		t.Errorf("%d joins in place and %d copied, want some of each (buffers of 256 bytes, a window of %d)", inPlace, copied, r.bufs.firstWindow())
	}
}
