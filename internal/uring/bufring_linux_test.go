//go:build linux && (amd64 || arm64)

package uring

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestBufferWindow checks that the ring offers few buffers until it runs
// out: receives that each return their buffer before the next keep using
// the first bufWindow buffers (so only their pages become resident, not
// the whole 64 KiB here), and a receiver that holds its buffers meets
// ENOBUFS, which widens the window, and then gets every byte in order.
func TestBufferWindow(t *testing.T) {
	const count, size = 256, 256
	r := newRing(t, Config{BufferCount: count, BufferSize: size})
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
			got = append(got, r.Buffer(bid, int(e.Res))...)
			r.Recycle(bid)
			return len(got) >= len(msg)
		})
		if !bytes.Equal(got, msg) {
			t.Fatalf("message %d: got %q, want %q", i, got, msg)
		}
	}
	if len(used) > bufWindow || r.Stats().NoBuffers != 0 {
		t.Fatalf("200 receives one at a time used %d distinct buffers (ENOBUFS %d), want at most %d and none",
			len(used), r.Stats().NoBuffers, bufWindow)
	}
	if err := r.CancelToken(tok.with(OpRecv), tok); err != nil {
		t.Fatal(err)
	}
	reapUntil(t, r, func(e CQE) bool {
		if bid, ok := e.Buffer(); ok {
			r.Recycle(bid)
		}
		return e.Token.Op() == OpRecv && !e.More()
	})

	// Holding every buffer until ENOBUFS: the window widens.
	want := pattern(1 << 18)
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, err := c.Write(want); err != nil {
			t.Errorf("client write: %v", err)
		}
	})
	got, _, rearms := recvAll(t, r, fd, len(want), true)
	wg.Wait()
	if !bytes.Equal(got, want) {
		t.Fatalf("received %d bytes differ from the %d sent (first difference at %d)", len(got), len(want), firstDiff(got, want))
	}
	if rearms == 0 || r.bufs.window <= bufWindow {
		t.Errorf("after holding buffers: %d re-arms, window %d; want ENOBUFS to widen it past %d", rearms, r.bufs.window, bufWindow)
	}
	// Every buffer recycled: the window's worth is offered again, the
	// rest waits in free.
	if b := &r.bufs; b.offered != b.window || len(b.free) != count-b.window {
		t.Errorf("after recycling everything: %d offered, %d free, window %d of %d", b.offered, len(b.free), b.window, count)
	}
}

// TestReleaseBuffers checks that ReleaseBuffers makes the receive
// buffers' pages non-resident (mincore) once receives touched them, and
// that receiving afterwards still delivers the bytes intact.
func TestReleaseBuffers(t *testing.T) {
	r := newRing(t, Config{BufferCount: 16, BufferSize: 4096})
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
			bid, ok := e.Buffer()
			if e.Res <= 0 || !ok {
				t.Fatalf("completion %+v (%v), want bytes in a buffer", e, e.Err())
			}
			got = append(got, r.Buffer(bid, int(e.Res))...)
			r.Recycle(bid)
			return len(got) >= len(msg)
		})
		if string(got) != msg {
			t.Fatalf("received %q, want %q", got, msg)
		}
	}
	resident := func() int {
		vec := make([]byte, (len(r.bufs.data)+4095)/4096)
		_, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&r.bufs.data[0])), uintptr(len(r.bufs.data)), uintptr(unsafe.Pointer(&vec[0])))
		if errno != 0 {
			t.Fatalf("mincore: %v", errno)
		}
		n := 0
		for _, v := range vec {
			n += int(v & 1)
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
}
