//go:build linux && (amd64 || arm64)

package uring

import (
	"bytes"
	"sync"
	"testing"
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
