package loop

import (
	"bytes"
	"errors"
	"io"
	"sync/atomic"
	"testing"
	"time"
)

const (
	testWriteLow  = 64 << 10
	testWriteHigh = 256 << 10
	testWriteMax  = 1 << 20
)

// TestSaturatedStallsAndRedelivers: 64 one-byte requests arrive in one
// read, each asking for a 64 KiB reply, 4 MiB in all, four times WriteMax.
// A handler that stops consuming while Saturated keeps the owed bytes under
// WriteHigh plus one reply; the loop calls OnData again with the input it
// left once the peer has read the owed bytes down to WriteLow, and every
// reply arrives, whole and in order, on a connection that never closed.
func TestSaturatedStallsAndRedelivers(t *testing.T) {
	const requests, reply = 64, 64 << 10
	pre := make([]byte, requests)
	for i := range pre {
		pre[i] = byte(i)
	}
	var peak atomic.Int64
	stalled := make(chan struct{})
	var once bool
	closed := make(chan error, 1)
	h := &fnHandler{
		data: func(c *Conn) {
			for _, b := range c.Peek(-1) {
				if c.Saturated() {
					if !once {
						once = true
						close(stalled)
					}
					return
				}
				c.Discard(1)
				_, _ = c.Write(bytes.Repeat([]byte{b}, reply))
				peak.Store(max(peak.Load(), int64(c.OutboundBuffered())))
			}
		},
		close: func(c *Conn, err error) { closed <- err },
	}
	l := runLoop(t, Config{Handler: h, WriteLow: testWriteLow, WriteHigh: testWriteHigh, WriteMax: testWriteMax})
	peer := adoptFilled(t, l, pre)
	recv(t, stalled, "the handler to see its connection saturated")
	_ = peer.SetReadDeadline(time.Now().Add(20 * time.Second))
	got := make([]byte, reply)
	for i := range requests {
		if _, err := io.ReadFull(peer, got); err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
		if want := bytes.Repeat([]byte{byte(i)}, reply); !bytes.Equal(got, want) {
			t.Fatalf("reply %d is not %d bytes of %d", i, reply, i)
		}
	}
	if p := peak.Load(); p > testWriteHigh+reply {
		t.Errorf("owed bytes peaked at %d; want at most WriteHigh+one reply (%d)", p, testWriteHigh+reply)
	}
	select {
	case err := <-closed:
		t.Fatalf("the connection closed: %v", err)
	default:
	}
	st := waitStats(t, l, func(s Stats) bool { return s.Stalls > 0 })
	t.Logf("peak owed %d bytes, %d stalls", peak.Load(), st.Stalls)
}

// TestReadPausesAtWriteHigh: an echo peer that writes 8 MiB and reads
// nothing until the loop has paused reading it. The loop stops reading
// once it owes more than WriteHigh, so the owed bytes stay under
// WriteHigh plus one read budget, well under WriteMax; when the peer reads,
// reading resumes and all 8 MiB come back intact.
func TestReadPausesAtWriteHigh(t *testing.T) {
	const size = 8 << 20
	const readBuf = 16 << 10
	var peak atomic.Int64
	closed := make(chan error, 1)
	h := &fnHandler{
		data: func(c *Conn) {
			_, _ = c.Write(c.Next(-1))
			peak.Store(max(peak.Load(), int64(c.OutboundBuffered())))
		},
		close: func(c *Conn, err error) { closed <- err },
	}
	l := runLoop(t, Config{Handler: h, ReadBufferSize: readBuf, WriteLow: testWriteLow, WriteHigh: testWriteHigh, WriteMax: testWriteMax})
	peer := adoptPair(t, l)
	_ = peer.SetDeadline(time.Now().Add(30 * time.Second))
	sent := make([]byte, size)
	for i := range sent {
		sent[i] = byte(i*31 + i>>13)
	}
	wrote := make(chan error, 1)
	go func() {
		_, err := peer.Write(sent)
		wrote <- err
	}()
	waitStats(t, l, func(s Stats) bool { return s.ReadPauses > 0 })
	got := make([]byte, size)
	if _, err := io.ReadFull(peer, got); err != nil {
		t.Fatalf("reading the echo: %v", err)
	}
	if err := recv(t, wrote, "the peer's write"); err != nil {
		t.Fatalf("peer write: %v", err)
	}
	if !bytes.Equal(got, sent) {
		t.Fatalf("the echo differs from what was sent")
	}
	if p, bound := peak.Load(), int64(testWriteHigh+4*readBuf); p > bound {
		t.Errorf("owed bytes peaked at %d; want at most WriteHigh plus one read budget (%d)", p, bound)
	}
	select {
	case err := <-closed:
		t.Fatalf("the connection closed: %v", err)
	default:
	}
	t.Logf("peak owed %d bytes", peak.Load())
}

// TestWriteMaxCloses: a handler that ignores Saturated and queues past
// WriteMax has its connection closed with ErrOutboundOverflow, once, and the
// write that would pass it reports the error.
func TestWriteMaxCloses(t *testing.T) {
	writeErr := make(chan error, 1)
	closed := make(chan error, 2)
	h := &fnHandler{
		data: func(c *Conn) {
			c.Discard(-1)
			for {
				if _, err := c.Write(make([]byte, 64<<10)); err != nil {
					writeErr <- err
					return
				}
			}
		},
		close: func(c *Conn, err error) { closed <- err },
	}
	l := runLoop(t, Config{Handler: h, WriteLow: testWriteLow, WriteHigh: testWriteHigh, WriteMax: testWriteMax})
	peer := adoptPair(t, l)
	if _, err := peer.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := recv(t, writeErr, "the refused write"); !errors.Is(err, ErrOutboundOverflow) {
		t.Fatalf("write past WriteMax: %v, want ErrOutboundOverflow", err)
	}
	if err := recv(t, closed, "OnClose"); !errors.Is(err, ErrOutboundOverflow) {
		t.Fatalf("closed with %v, want ErrOutboundOverflow", err)
	}
	waitStats(t, l, func(s Stats) bool { return s.Conns == 0 })
	if len(closed) != 0 {
		t.Fatalf("OnClose ran again: %v", <-closed)
	}
}
