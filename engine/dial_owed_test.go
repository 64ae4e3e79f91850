package engine_test

import (
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/pinion-net/pinion/engine"
	"github.com/pinion-net/pinion/internal/tcptest"
)

// streamClient dials an echo server and streams size pattern bytes to it,
// paced by the watermarks (Saturated, then OnDrained), while it checks
// what comes back; after the last byte it sends its FIN. What it read, or
// how it failed, arrives on done once the echo's FIN or an error ends it.
type streamClient struct {
	engine.BaseHandler
	pat     pattern
	size    int64
	sent    int64
	finned  bool // the FIN is sent
	checked int64
	err     error
	done    chan error
}

func (s *streamClient) OnOpen(c *engine.Conn) { s.fill(c) }

func (s *streamClient) OnDrained(c *engine.Conn) { s.fill(c) }

// fill writes until the connection is saturated or everything is sent.
func (s *streamClient) fill(c *engine.Conn) {
	for s.sent < s.size && !c.Saturated() {
		n := int(min(s.size-s.sent, int64(s.pat.maxChunk)))
		_, _ = c.Write(s.pat.at(s.sent, n))
		s.sent += int64(n)
	}
	if s.sent == s.size && !s.finned {
		s.finned = true
		_ = c.CloseWrite()
	}
}

func (s *streamClient) OnData(c *engine.Conn) {
	got := c.Next(-1)
	if i := s.pat.firstDiff(s.checked, got); i >= 0 && s.err == nil {
		s.err = fmt.Errorf("echoed byte %d differs", s.checked+int64(i))
	}
	s.checked += int64(len(got))
}

func (s *streamClient) OnPeerClose(c *engine.Conn) { _ = c.Close() }

func (s *streamClient) OnClose(_ *engine.Conn, err error) {
	switch {
	case s.err != nil:
	case err != nil && !errors.Is(err, io.EOF):
		s.err = err
	case s.checked != s.size:
		s.err = fmt.Errorf("%d of %d bytes echoed, then the echo's FIN", s.checked, s.size)
	}
	s.done <- s.err
}

// TestDialedKeepsReading: a connection made with Dial is a client, whose
// output is its own, not an answer to its input, so owing its peer more
// than WriteHigh does not stop it reading (the owed-bytes pause is off on
// dialed connections). A client streaming 32 MiB to an echo server that
// applies TCP backpressure gets it all back in order. With the pause on,
// the pair deadlocked: the client stopped reading the echo's replies once
// it owed more than WriteHigh, and the echo, blocked writing them,
// stopped reading (as TestProxyHalfClose's proxy did, commit bc56e5e).
func TestDialedKeepsReading(t *testing.T) {
	const size, high = 32 << 20, 256 << 10
	h := &streamClient{pat: newPattern(64 << 10), size: size, done: make(chan error, 1)}
	e, _ := startEngine(t, h, engine.Config{Addrs: []string{}, Loops: 1, WriteHigh: high})
	if err := e.DialAsync(tcptest.Serve(t, tcptest.Echo), nil, func(_ engine.Handle, err error) {
		if err != nil {
			h.done <- err
		}
	}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-h.done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("the stream stalled: %d of %d bytes echoed in 60 s", e.Stats().BytesIn, size)
	}
	if st := e.Stats(); st.ReadPaused != 0 {
		t.Errorf("ReadPaused %d after the stream; want 0", st.ReadPaused)
	}
}
