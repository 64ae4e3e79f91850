package engine_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/pinion-net/pinion/engine"
)

// bigReplier answers every input byte with reply bytes of that value,
// stopping between requests while the connection is Saturated.
type bigReplier struct {
	engine.BaseHandler
	reply   int
	abandon bool
	closed  chan error
}

func (h *bigReplier) OnOpen(c *engine.Conn) { c.SetAbandonOnFIN(h.abandon) }

func (h *bigReplier) OnData(c *engine.Conn) {
	buf := make([]byte, h.reply)
	for c.Buffered() > 0 && !c.Saturated() {
		b := c.Next(1)[0]
		for i := range buf {
			buf[i] = b
		}
		_, _ = c.Write(buf)
	}
}

func (h *bigReplier) OnClose(_ *engine.Conn, err error) { h.closed <- err }

// TestSaturatedBoundsPipelinedReplies: 400 one-byte requests arrive in one
// write, each owed a 64 KiB reply (25 MiB in all, six times WriteMax). The
// handler stops while Saturated and is called again once the replies
// drain, so the client, which reads only after the server has stalled,
// gets every reply in order, and the owed bytes never pass WriteHigh plus
// one reply.
func TestSaturatedBoundsPipelinedReplies(t *testing.T) {
	const (
		reqs      = 400
		reply     = 64 << 10
		writeHigh = 256 << 10
	)
	h := &bigReplier{reply: reply, closed: make(chan error, 1)}
	e, addr := startEngine(t, h, engine.Config{WriteLow: 64 << 10, WriteHigh: writeHigh, WriteMax: 4 << 20})
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(60 * time.Second))
	req := make([]byte, reqs)
	for i := range req {
		req[i] = byte(i)
	}
	if _, err := c.Write(req); err != nil {
		t.Fatalf("write: %v", err)
	}
	waitFor(t, 10*time.Second, "a stall", func() bool { return stallsOf(e.Stats()) > 0 }, nil)
	got := make([]byte, reply)
	for i := range reqs {
		if _, err := io.ReadFull(c, got); err != nil {
			t.Fatalf("reply %d of %d: %v", i, reqs, err)
		}
		if want := bytes.Repeat([]byte{byte(i)}, reply); !bytes.Equal(got, want) {
			t.Fatalf("reply %d: not %d bytes of %d", i, reply, byte(i))
		}
	}
	s := e.Stats()
	if s.OutboundPeak > writeHigh+reply {
		t.Errorf("OutboundPeak %d, want at most WriteHigh + one reply = %d", s.OutboundPeak, writeHigh+reply)
	}
	t.Logf("stalls %d, outbound peak %d", stallsOf(s), s.OutboundPeak)
}

func stallsOf(s engine.Stats) uint64 {
	var n uint64
	for _, l := range s.Loops {
		n += l.Stalls
	}
	return n
}

// TestStalledHalfClose: a client pipelines requests, shuts its write side
// while the server is stalled, and reads: by default the FIN only ends the
// input, so every reply still arrives, then the server's FIN.
func TestStalledHalfClose(t *testing.T) {
	const reqs, reply = 100, 64 << 10
	h := &bigReplier{reply: reply, closed: make(chan error, 1)}
	e, addr := startEngine(t, h, engine.Config{})
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(60 * time.Second))
	if _, err := c.Write(make([]byte, reqs)); err != nil {
		t.Fatalf("write: %v", err)
	}
	waitFor(t, 10*time.Second, "a stall", func() bool { return stallsOf(e.Stats()) > 0 }, nil)
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatalf("CloseWrite: %v", err)
	}
	n, err := io.Copy(io.Discard, c)
	if err != nil || n != reqs*reply {
		t.Fatalf("read %d bytes then %v; want %d then EOF", n, err, reqs*reply)
	}
	if err := receive(t, h.closed, 10*time.Second, "OnClose"); !errors.Is(err, io.EOF) {
		t.Errorf("OnClose reason %v, want io.EOF", err)
	}
}

// TestStalledAbandonOnFIN: under SetAbandonOnFIN, a client that closes
// while the server is stalled on its unread replies is noticed at once,
// although the connection is not being read: it closes with io.EOF and
// its descriptor is released, without waiting for the replies to drain.
func TestStalledAbandonOnFIN(t *testing.T) {
	const reqs, reply = 1000, 64 << 10
	h := &bigReplier{reply: reply, abandon: true, closed: make(chan error, 1)}
	e, addr := startEngine(t, h, engine.Config{})
	base := openFDs(t)
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	if _, err := c.Write(make([]byte, reqs)); err != nil {
		t.Fatalf("write: %v", err)
	}
	waitFor(t, 10*time.Second, "a stall", func() bool { return stallsOf(e.Stats()) > 0 }, nil)
	// Half-close only: a full close with unread replies would reset, which
	// a paused connection notices anyway.
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatalf("CloseWrite: %v", err)
	}
	start := time.Now()
	// The replies already owed still go out; reading them lets the close
	// finish.
	go func() { _, _ = io.Copy(io.Discard, c) }()
	if err := receive(t, h.closed, 10*time.Second, "OnClose"); !errors.Is(err, io.EOF) {
		t.Errorf("OnClose reason %v, want io.EOF", err)
	}
	if s := e.Stats(); s.BytesOut >= reqs*reply {
		t.Errorf("all %d reply bytes were written; want the unserved requests dropped", s.BytesOut)
	}
	t.Logf("closed %v after the FIN", time.Since(start).Round(time.Millisecond))
	_ = c.Close()
	waitFor(t, 5*time.Second, "descriptors back to the baseline", func() bool { return openFDs(t) <= base }, nil)
}

// lineReplier answers "big" lines with 64 KiB and "small" lines with
// "ok", stopping while Saturated; an unfinished line waits for more input.
type lineReplier struct {
	engine.BaseHandler
}

func (lineReplier) OnData(c *engine.Conn) {
	for c.Buffered() > 0 && !c.Saturated() {
		i := bytes.IndexByte(c.Peek(-1), '\n')
		if i < 0 {
			return
		}
		switch line := string(c.Next(i + 1)); line {
		case "big\n":
			_, _ = c.Write(bytes.Repeat([]byte{'b'}, 64<<10))
		default:
			_, _ = c.Write([]byte("ok " + line))
		}
	}
}

// TestStalledPartialResumesReading: the input left at a stall may end in
// an unfinished request. Delivered again, it produces nothing; reading must
// resume all the same, so the rest of that request is read and answered.
// The number of big requests before it varies, so that for one of them the
// stall comes exactly when only the unfinished line is left.
func TestStalledPartialResumesReading(t *testing.T) {
	e, addr := startEngine(t, lineReplier{}, engine.Config{})
	for bigs := 10; bigs <= 20; bigs++ {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		before := stallsOf(e.Stats())
		if _, err := c.Write(append(bytes.Repeat([]byte("big\n"), bigs), "sma"...)); err != nil {
			t.Fatalf("write: %v", err)
		}
		waitFor(t, 10*time.Second, "a stall", func() bool { return stallsOf(e.Stats()) > before }, nil)
		if _, err := io.ReadFull(c, make([]byte, bigs*64<<10)); err != nil {
			t.Fatalf("%d bigs: read the big replies: %v", bigs, err)
		}
		if _, err := c.Write([]byte("ll\n")); err != nil {
			t.Fatalf("write: %v", err)
		}
		got := make([]byte, len("ok small\n"))
		if _, err := io.ReadFull(c, got); err != nil || string(got) != "ok small\n" {
			t.Fatalf("%d bigs: reply to the finished line: got %q, %v; want %q", bigs, got, err, "ok small\n")
		}
		_ = c.Close()
	}
}
