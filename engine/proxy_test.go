package engine_test

import (
	"errors"
	"io"
	"testing"

	"github.com/pinion-net/pinion/engine"
	"github.com/pinion-net/pinion/internal/tcptest"
)

// pairProxy is an L4 proxy written on the public hooks: it dials the
// backend on the client's own loop (DialAsync from OnOpen), pauses a side
// whose bytes the other cannot take (WriteHigh) until OnDrained, and passes
// each FIN on (OnPeerClose, CloseWrite). Each side's owed bytes are what
// the other side read, so neither pauses its own reading for them
// (SetOwedPausesRead(false), docs/adr/0015-proxy-independent-directions.md;
// the dialed side has it off by default): with that pause on the backend
// side, a backend that echoes deadlocks the pair once the proxy owes it
// more than WriteHigh, since the echo stops reading while the proxy is not
// reading its replies.
type pairProxy struct {
	engine.BaseHandler
	e       *engine.Engine
	backend string
	high    int
}

// proxySide is the Context of each connection of a pair.
type proxySide struct{ other *engine.Conn }

func (p *pairProxy) OnStart(e *engine.Engine) { p.e = e }

func (p *pairProxy) OnOpen(c *engine.Conn) {
	c.SetOwedPausesRead(false)
	if c.Dialed() {
		// The backend side: its Context names the client.
		client := c.Context().(*proxySide).other
		if !client.Open() {
			_ = c.Close()
			return
		}
		client.Context().(*proxySide).other = c
		client.ResumeReading()
		return
	}
	c.SetContext(&proxySide{})
	c.PauseReading() // until the backend is connected
	err := p.e.DialAsync(p.backend, &proxySide{other: c}, func(_ engine.Handle, err error) {
		if err != nil {
			_ = c.Abort(err)
		}
	})
	if err != nil {
		_ = c.Abort(err)
	}
}

func (p *pairProxy) OnData(c *engine.Conn) {
	other := c.Context().(*proxySide).other
	if other == nil {
		return // not paired yet: the input waits
	}
	if _, err := other.Write(c.Next(-1)); err != nil {
		_ = c.Abort(err)
		return
	}
	if other.OutboundBuffered() > p.high {
		c.PauseReading() // OnDrained(other) resumes it
	}
}

func (p *pairProxy) OnDrained(c *engine.Conn) {
	if other := c.Context().(*proxySide).other; other != nil {
		other.ResumeReading()
	}
}

func (p *pairProxy) OnPeerClose(c *engine.Conn) {
	if other := c.Context().(*proxySide).other; other != nil {
		_ = other.CloseWrite()
	}
}

func (p *pairProxy) OnClose(c *engine.Conn, err error) {
	side, _ := c.Context().(*proxySide)
	if side == nil || side.other == nil {
		return
	}
	if err != nil && !errors.Is(err, io.EOF) {
		_ = side.other.Abort(err)
		return
	}
	_ = side.other.Close()
}

// TestProxyHalfClose is the scenario of issue 9 ("a client that sent 50 MiB
// then CloseWrite got 44.8 MB back"), through a proxy built on the public
// hooks: every byte comes back, then EOF.
func TestProxyHalfClose(t *testing.T) {
	const size, high = 50 << 20, 256 << 10
	p := &pairProxy{backend: tcptest.Serve(t, tcptest.Echo), high: high}
	_, addr := startEngine(t, p, engine.Config{WriteHigh: high})
	pat := newPattern(64 << 10)
	got := sendThenFIN(t, addr, pat, size)
	if len(got) != size {
		t.Fatalf("got %d bytes back, then EOF; want %d", len(got), size)
	}
	if i := pat.firstDiff(0, got); i >= 0 {
		t.Fatalf("echoed bytes differ from byte %d", i)
	}
}
