package engine_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pinion-net/pinion/engine"
)

// TestWatermarkBoundsOutbound sends 64 MiB to the echo server from a peer
// that does not read. The server must stop reading once it owes WriteHigh
// bytes, so the outbound bytes it holds stay within a bound set by the
// configuration, however much the peer pushes; once the peer reads, every
// byte comes back in order and the connection ends cleanly.
func TestWatermarkBoundsOutbound(t *testing.T) {
	const (
		readBuf   = 64 << 10
		writeLow  = 64 << 10
		writeHigh = 256 << 10
		writeMax  = 4 << 20
		total     = 64 << 20
		chunk     = 64 << 10
	)
	// The bound on the owed bytes of the one connection. A connection is
	// read only while not paused, and it is paused as soon as a flush
	// leaves more than WriteHigh owed, so a read starts with at most
	// WriteHigh owed. The echo handler turns each read (at most
	// ReadBufferSize bytes) into as many owed bytes, and the read loop
	// stops after the read that passes WriteHigh. Flushing only lowers
	// the figure. (Outbound counts bytes; the chunks holding them add at
	// most one partly filled chunk.)
	const bound = writeHigh + readBuf

	e, addr, h := startEcho(t, engine.Config{
		ReadBufferSize: readBuf,
		WriteLow:       writeLow,
		WriteHigh:      writeHigh,
		WriteMax:       writeMax,
	})
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()

	pat := newPattern(chunk)
	var sent atomic.Int64
	var writerDone atomic.Bool
	writeErr := make(chan error, 1)
	go func() {
		defer writerDone.Store(true)
		var off int64
		for off < total {
			if err := c.SetWriteDeadline(time.Now().Add(30 * time.Second)); err != nil {
				writeErr <- err
				return
			}
			n, err := c.Write(pat.at(off, chunk))
			off += int64(n)
			sent.Store(off)
			if err != nil {
				writeErr <- fmt.Errorf("write at offset %d: %w", off, err)
				return
			}
		}
		writeErr <- nil
	}()

	// Wait until the server paused reading and the writer is stuck: the
	// kernel buffers on both sides and the server's backlog are full.
	var last int64
	lastChange := time.Now()
	waitFor(t, 30*time.Second, "a read pause and a stalled writer", func() bool {
		if s := sent.Load(); s != last {
			last, lastChange = s, time.Now()
		}
		stalled := writerDone.Load() || time.Since(lastChange) > 200*time.Millisecond
		return stalled && readPausesOf(e.Stats()) > 0
	}, func() string {
		s := e.Stats()
		return fmt.Sprintf("sent %d, read pauses %d, outbound %d", sent.Load(), readPausesOf(s), s.Outbound)
	})
	st := e.Stats()
	t.Logf("while the peer did not read: sent %d bytes, server owes %d, peak %d (bound %d), read pauses %d",
		sent.Load(), st.Outbound, st.OutboundPeak, bound, readPausesOf(st))
	if st.OutboundPeak > bound {
		t.Errorf("outbound peak while the peer did not read: got %d, want <= %d", st.OutboundPeak, bound)
	}

	// Now read: everything sent comes back, in order.
	buf := make([]byte, 256<<10)
	var got int64
	for got < total {
		if err := c.SetReadDeadline(time.Now().Add(30 * time.Second)); err != nil {
			t.Fatal(err)
		}
		n, err := c.Read(buf)
		if i := pat.firstDiff(got, buf[:n]); i >= 0 {
			t.Fatalf("echo byte %d: got %#x, want %#x", got+int64(i), buf[i], pat.at(got+int64(i), 1)[0])
		}
		got += int64(n)
		if err != nil {
			t.Fatalf("read after %d of %d bytes: %v", got, total, err)
		}
	}
	select {
	case err := <-writeErr:
		if err != nil {
			t.Fatalf("writer: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("writer still running after its bytes were echoed")
	}

	// A clean end: our FIN, the server's FIN, no reset.
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatalf("CloseWrite: %v", err)
	}
	if err := c.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Read(buf); n != 0 || err != io.EOF {
		t.Fatalf("read after the echo: got %d bytes, %v; want 0, EOF", n, err)
	}
	if err := waitClosed(t, h, 10*time.Second); err != io.EOF {
		t.Errorf("OnClose reason: got %v, want EOF", err)
	}

	waitFor(t, 10*time.Second, "no connection left", func() bool { return e.Stats().Conns == 0 }, nil)
	st = e.Stats()
	t.Logf("end: peak %d (bound %d), read pauses %d, bytes in %d, out %d", st.OutboundPeak, bound, readPausesOf(st), st.BytesIn, st.BytesOut)
	if st.OutboundPeak > bound {
		t.Errorf("outbound peak: got %d, want <= %d", st.OutboundPeak, bound)
	}
	if n := readPausesOf(st); n == 0 {
		t.Errorf("read pauses: got 0, want > 0")
	}
	if st.Outbound != 0 {
		t.Errorf("outbound after close: got %d, want 0", st.Outbound)
	}
	if st.BytesIn != total || st.BytesOut != total {
		t.Errorf("bytes in, out: got %d, %d; want %d, %d", st.BytesIn, st.BytesOut, total, total)
	}
}

// overflowHandler writes the sizes in writes in OnOpen and reports the
// first Write error and the close reason.
type overflowHandler struct {
	engine.BaseHandler
	writes   []int
	writeErr chan error
	closed   chan error
}

func (h *overflowHandler) OnOpen(c *engine.Conn) {
	var first error
	for _, n := range h.writes {
		if _, err := c.Write(make([]byte, n)); err != nil {
			first = err
			break
		}
	}
	h.writeErr <- first
}

func (h *overflowHandler) OnClose(_ *engine.Conn, err error) { h.closed <- err }

// TestWriteMaxOverflowCloses checks that owed bytes past WriteMax close
// the connection with engine.ErrOutboundOverflow, and that exactly WriteMax
// is still allowed.
func TestWriteMaxOverflowCloses(t *testing.T) {
	const writeMax = 1 << 20
	tests := []struct {
		name     string
		writes   []int
		overflow bool
	}{
		{"one write past the cap", []int{writeMax + 1}, true},
		{"writes adding up past the cap", []int{writeMax / 2, writeMax / 2, 1}, true},
		{"exactly the cap", []int{writeMax / 2, writeMax / 2}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &overflowHandler{writes: tt.writes, writeErr: make(chan error, 1), closed: make(chan error, 1)}
			e, addr := startEngine(t, h, engine.Config{WriteMax: writeMax})
			// The server may reset the connection before the client's
			// connect has looked at the socket's state: then the dial
			// itself reports the reset.
			c, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil && !(tt.overflow && isReset(err)) {
				t.Fatalf("dial: %v", err)
			}
			if c != nil {
				defer c.Close()
			}

			var werr error
			select {
			case werr = <-h.writeErr:
			case <-time.After(10 * time.Second):
				t.Fatal("OnOpen did not run")
			}
			if !tt.overflow {
				if err := c.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
					t.Fatal(err)
				}
				if werr != nil {
					t.Fatalf("Write: got %v, want nil", werr)
				}
				got, err := io.ReadAll(io.LimitReader(c, writeMax))
				if err != nil || len(got) != writeMax {
					t.Fatalf("read: got %d bytes, %v; want %d, nil", len(got), err, writeMax)
				}
				return
			}
			if !errors.Is(werr, engine.ErrOutboundOverflow) {
				t.Errorf("Write: got %v, want %v", werr, engine.ErrOutboundOverflow)
			}
			select {
			case err := <-h.closed:
				if !errors.Is(err, engine.ErrOutboundOverflow) {
					t.Errorf("OnClose reason: got %v, want %v", err, engine.ErrOutboundOverflow)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("no OnClose")
			}
			// Nothing of the refused writes reaches the peer.
			if c != nil {
				if err := c.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(c)
				if len(got) != 0 {
					t.Errorf("peer read %d bytes (err %v), want 0", len(got), err)
				}
			}
			waitFor(t, 5*time.Second, "no connection left", func() bool { return e.Stats().Conns == 0 }, nil)
			if s := e.Stats(); s.Outbound != 0 {
				t.Errorf("outbound after the overflow: got %d, want 0", s.Outbound)
			}
		})
	}
}
