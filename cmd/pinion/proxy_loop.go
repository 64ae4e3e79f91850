package main

import (
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/pinion-net/pinion/engine"
)

// proxyHandler is -proto proxy on the loop model, written on the public
// engine API only. Each accepted connection (the client) dials the upstream
// on its own loop, so both connections of a pair run their callbacks on one
// goroutine and share their state without a lock.
//
// The two directions are independent, as over a direct connection: what a
// connection owes does not stop it being read (SetOwedPausesRead(false)),
// only what the other side owes does. A pair's life, for each direction
// (client to upstream, and back):
//
//	bytes arrive ──▶ written to the other side ──other owes > WriteHigh──▶ source paused
//	     ▲                                                                   │ other drained to WriteLow
//	     └──────────────────────── source resumed ◀──────────── OnDrained(other)
//	peer FIN ──▶ OnPeerClose ──▶ CloseWrite on the other side (FIN once its owed bytes are out)
//
// A connection whose both directions are done closes by itself (the engine
// closes it once it sent its FIN and read its peer's); its OnClose closes
// the other side gracefully, which then does the same. A connection that
// fails (a reset, a timeout, a write error) aborts the other at once, so no
// half-dead pair is left. The client is not read until the upstream is
// connected: its first bytes and a FIN it sends early wait in the kernel.
//
// During a drain a relay has no request boundary to end at, so the pair
// is closed once it is quiet (proxy_drain.go).
type proxyHandler struct {
	engine.BaseHandler
	upstream   string
	drainGrace time.Duration // a pair quiet this long in a drain is closed
	log        *slog.Logger
	gates      []logGate // one per loop, by loop ID: only that loop touches it
}

// pair is the Context of both connections of a pair.
type pair struct {
	client, up *engine.Conn
	connected  bool // the upstream's OnOpen ran: a later OnClose is not a failed connect

	// The drain's quiet check (proxy_drain.go); quiet is nil until then.
	quiet  *engine.Timer
	last   time.Time // during the drain: when a side last read bytes or was resumed
	closed bool      // a side's OnClose ran: the pair is ending, the check stops
}

// other returns the connection of the pair that is not c (nil before the
// upstream dial started).
func (p *pair) other(c *engine.Conn) *engine.Conn {
	if c == p.client {
		return p.up
	}
	return p.client
}

// proxyLogEvery bounds the "cannot connect" lines: at most one per loop per
// period, counting those left out, so an upstream that is down under load
// cannot flood the log.
const proxyLogEvery = time.Second

// logGate rate-limits one loop's failed-connect lines.
type logGate struct {
	next       time.Time // no line before this
	suppressed int       // failures not logged since the last line
}

func newProxyHandler(upstream string, loops int, drainGrace time.Duration, log *slog.Logger) *proxyHandler {
	return &proxyHandler{upstream: upstream, drainGrace: drainGrace, log: log, gates: make([]logGate, loops)}
}

// OnOpen pairs a new client with an upstream connection dialled on the
// client's loop, or, for the upstream side, starts reading the client once
// the connect succeeded.
func (h *proxyHandler) OnOpen(c *engine.Conn) {
	// What c owes was read from the other side, which OnData pauses; the
	// engine's own pause would stop c's direction for the other's.
	c.SetOwedPausesRead(false)
	if c.Dialed() {
		p := c.Context().(*pair)
		p.connected = true
		p.active(c) // the client's first bytes may wait in the kernel
		p.client.ResumeReading()
		return
	}
	p := &pair{client: c}
	c.SetContext(p)
	c.PauseReading() // until the upstream is connected
	up, err := c.Loop().Dial(h.upstream, p)
	if err != nil {
		h.connectFailed(c, err)
		return
	}
	p.up = up
}

// OnData passes c's input on to the other side, and stops reading c while
// the other side owes more than the high watermark.
func (h *proxyHandler) OnData(c *engine.Conn) {
	p := c.Context().(*pair)
	p.active(c)
	o := p.other(c)
	if _, err := o.Write(c.Next(-1)); err != nil {
		_ = c.Abort(err)
		return
	}
	if o.Saturated() {
		c.PauseReading() // OnDrained(o) resumes it
	}
}

// OnDrained resumes the side that feeds c, paused while c owed too much.
func (h *proxyHandler) OnDrained(c *engine.Conn) {
	p := c.Context().(*pair)
	p.active(c) // the resumed side may have input waiting in the kernel
	p.other(c).ResumeReading()
}

// OnPeerClose passes c's end of input on as the other side's FIN, sent
// once the other side has written everything c sent before it.
func (h *proxyHandler) OnPeerClose(c *engine.Conn) {
	p := c.Context().(*pair)
	p.active(c)
	_ = p.other(c).CloseWrite() // ErrClosed: the other side is gone, and closes c
}

// OnClose ends the pair: gracefully when c ended cleanly (the other side
// still flushes what it owes), with a reset when c failed.
func (h *proxyHandler) OnClose(c *engine.Conn, err error) {
	p, _ := c.Context().(*pair)
	if p == nil {
		return
	}
	p.end()
	o := p.other(c)
	switch {
	case o == nil:
	case c == p.up && !p.connected:
		h.connectFailed(o, err)
	case err == nil || errors.Is(err, io.EOF) || errors.Is(err, engine.ErrShutdown):
		_ = o.Close()
	default:
		_ = o.Abort(err)
	}
}

// connectFailed closes a client whose upstream could not be reached: at
// once, with a FIN (its input was never read), and with a rate-limited
// warning.
func (h *proxyHandler) connectFailed(client *engine.Conn, err error) {
	if !client.Open() {
		return
	}
	g := &h.gates[client.Loop().ID()]
	if now := client.Loop().Now(); !now.Before(g.next) {
		h.log.Warn("proxy: cannot connect to the upstream; closing the client",
			"upstream", h.upstream, "client", client.RemoteAddr(), "err", err, "suppressed", g.suppressed)
		g.next, g.suppressed = now.Add(proxyLogEvery), 0
	} else {
		g.suppressed++
	}
	_ = client.CloseWithError(err)
}

// startLoopProxy serves -proto proxy on the loop model.
func startLoopProxy(cfg serveConfig, base engine.Config, log *slog.Logger) (server, error) {
	base.DialTimeout = cfg.connectTimeout
	e, err := engine.Start(newProxyHandler(cfg.upstream, cfg.loops, cfg.drainGrace, log), base)
	if err != nil {
		return nil, err
	}
	return &loopServer{e: e}, nil
}
