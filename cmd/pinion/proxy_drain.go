package main

import "github.com/pinion-net/pinion/engine"

// A relay has no request boundary to end at in a drain, so -proto proxy
// ends a pair once it is quiet (docs/adr/0021-proxy-drain-quiet-relays.md):
// no byte read from either side for -drain-grace, and nothing owed to
// either side. It is then closed gracefully: both sides get a FIN and a
// lingering close, as a quiet client would get from a drained HTTP
// server. A pair still moving bytes keeps going; whatever is open at the
// drain's deadline is closed by the shutdown, as every connection is.
// Both models keep this rule; this file has the loop model's half, and
// proxy_goroutine.go the goroutine model's.

// OnDrain starts the pair's quiet check. It runs for both sides (and for
// an upstream connected during the drain); the first call arms the check.
func (h *proxyHandler) OnDrain(c *engine.Conn) {
	p, _ := c.Context().(*pair)
	if p == nil || p.quiet != nil || p.closed {
		return
	}
	l := c.Loop()
	p.last = l.Now()
	p.quiet = l.Schedule(h.drainGrace, func() { h.closeWhenQuiet(p, l) })
}

// active notes that c read bytes, a FIN, or was resumed: the pair is not
// quiet. It costs nothing before the drain.
func (p *pair) active(c *engine.Conn) {
	if p.quiet != nil {
		p.last = c.Loop().Now()
	}
}

// end stops the quiet check of a pair one side of which has closed; the
// other side is closing too (OnClose).
func (p *pair) end() {
	p.closed = true
	if p.quiet != nil {
		p.quiet.Stop()
	}
}

// closeWhenQuiet closes the pair when it has been quiet for the grace, or
// looks again once it could be: a grace after its last activity, or a
// grace from now while a side owes bytes or the upstream is connecting
// (the client's input then waits unread in the kernel).
func (h *proxyHandler) closeWhenQuiet(p *pair, l *engine.Loop) {
	if p.closed {
		return
	}
	now := l.Now()
	wait := h.drainGrace
	if p.connected && p.client.OutboundBuffered() == 0 && p.up.OutboundBuffered() == 0 {
		quiet := now.Sub(p.last)
		if quiet >= h.drainGrace {
			_ = p.client.Close() // its OnClose closes the upstream too
			_ = p.up.Close()
			return
		}
		wait = h.drainGrace - quiet
	}
	p.quiet = l.Schedule(wait, func() { h.closeWhenQuiet(p, l) })
}
