package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/pinion-net/pinion/cmd/pinion/internal/proto"
	"github.com/pinion-net/pinion/codec"
	"github.com/pinion-net/pinion/engine"
)

// loopServer serves a protocol on pinion's event loops.
type loopServer struct {
	e     *engine.Engine
	proto proto.Protocol // closed after shutdown
}

// loopHandler adapts a protocol to engine.Handler: the input is handed over
// in place, and replies are queued on the connection. Replies owed after
// blocking work are produced on the offload pool; once a connection has a
// task there, every later reply goes through the pool too, so replies stay
// in request order. Between serve calls it stops while the connection is
// Saturated: the loop calls OnData again with the rest once the replies
// have drained, so a pipelining client gets every reply with the server's
// memory bounded by the watermarks.
type loopHandler struct {
	engine.BaseHandler
	proto         proto.Protocol
	headerTimeout time.Duration
	drainGrace    time.Duration    // how long a connection stays idle in a drain before it is closed
	scratch       []*proto.Scratch // one per loop, by loop ID: only that loop touches it
}

// connState is what the handler keeps per connection, allocated only for
// connections that ever hold a partial request.
type connState struct {
	headerArmed bool                  // a read deadline for the request under way is set
	progress    codec.RequestProgress // how far the partial request has been parsed
}

// state returns c's connState, allocating it on first use.
func state(c *engine.Conn) *connState {
	st, _ := c.Context().(*connState)
	if st == nil {
		st = &connState{}
		c.SetContext(st)
	}
	return st
}

// OnOpen tells the loop what the peer's FIN means for the protocol.
func (h *loopHandler) OnOpen(c *engine.Conn) {
	if a, ok := h.proto.(finAbandoner); ok && a.AbandonOnFIN() {
		c.SetAbandonOnFIN(true)
	}
}

// finAbandoner is a protocol whose clients give up when they send FIN
// (HTTP): their unserved requests and queued blocking work are dropped.
type finAbandoner interface {
	AbandonOnFIN() bool
}

func (h *loopHandler) OnData(c *engine.Conn) {
	sc := h.scratch[c.Loop().ID()]
	sc.Now = c.Loop().Now()
	sc.Draining = c.Draining()
	// The protocol parses with the connection's progress when it has one,
	// else with the scratch's, which moves to a connState of its own only
	// if a request is left partial.
	sc.Conn, sc.Own = nil, codec.RequestProgress{}
	if st, _ := c.Context().(*connState); st != nil {
		sc.Conn = &st.progress
	}
	defer func() {
		if sc.Conn == nil && sc.Own.Partial() {
			state(c).progress = sc.Own
		}
		sc.Conn = nil
	}()
	served := false // a request completed: one partial after it gets a deadline of its own
	for c.Buffered() > 0 {
		sc.Peer = c
		if c.Saturated() {
			// The rest waits for the replies to drain; the loop calls
			// again. No header deadline meanwhile: the client is not late.
			h.armHeaderDeadline(c, false)
			return
		}
		n, reply, next := h.proto.Serve(sc, c.Peek(-1), sc.Out[:0])
		sc.Peer = nil // the scratch outlives c
		sc.Out = reply[:0]
		c.Discard(n)
		served = served || n > 0
		if !h.send(c, sc, reply, next) {
			return
		}
		if next.Close || next.Err != nil {
			_ = c.CloseWithError(next.Err)
			return
		}
		if next.Partial || n == 0 {
			if served {
				h.armHeaderDeadline(c, false)
			}
			h.armHeaderDeadline(c, next.Partial)
			return
		}
	}
	h.armHeaderDeadline(c, false)
}

// send writes the replies of one serve call, through the offload pool
// when they are owed after blocking work or when earlier replies are still
// there. It reports false when the connection was closed instead.
func (h *loopHandler) send(c *engine.Conn, sc *proto.Scratch, reply []byte, next proto.Action) bool {
	if next.Block <= 0 && !c.OffloadBusy() {
		_, _ = c.Write(reply)
		return true
	}
	now, later := reply, []byte(nil)
	if next.Block > 0 {
		now, later = reply[:next.BlockFrom], reply[next.BlockFrom:]
	}
	if !c.OffloadBusy() { // nothing owed before: what needs no blocking goes now
		_, _ = c.Write(now)
		now = nil
	}
	// Copies: reply is the loop's scratch, reused by the next serve call.
	now, later, d := bytes.Clone(now), bytes.Clone(later), next.Block
	err := c.Offload(func(ctx context.Context, w io.Writer) error {
		if _, err := w.Write(now); err != nil {
			return err
		}
		if err := blockingWork(ctx, d); err != nil {
			return err
		}
		_, err := w.Write(later)
		return err
	})
	if err == nil {
		return true
	}
	if b, ok := h.proto.(busyReplier); ok && errors.Is(err, engine.ErrOffloadFull) {
		_, _ = c.Write(b.Busy(sc, nil))
	}
	_ = c.CloseWithError(err)
	return false
}

// blockingWork stands for d of blocking work: a sleep that ends early, with
// ctx's error, when the connection is gone.
func blockingWork(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// armHeaderDeadline sets a read deadline when a request starts arriving and
// clears it once no request is partial. Set once per request, it is not
// pushed back by bytes trickling in.
func (h *loopHandler) armHeaderDeadline(c *engine.Conn, partial bool) {
	if h.headerTimeout <= 0 {
		return
	}
	st, _ := c.Context().(*connState)
	switch {
	case partial && (st == nil || !st.headerArmed):
		st = state(c)
		st.headerArmed = true
		c.SetReadDeadline(c.Loop().Now().Add(h.headerTimeout))
	case !partial && st != nil && st.headerArmed:
		st.headerArmed = false
		c.SetReadDeadline(time.Time{})
	}
}

// busyReplier is a protocol that can answer "busy" when the offload pool
// refuses work (-offload-policy reject), e.g. HTTP's 503.
type busyReplier interface {
	Busy(sc *proto.Scratch, out []byte) []byte
}

func startLoopServer(cfg serveConfig, p proto.Protocol, log *slog.Logger) (server, error) {
	lb, err := engine.ParseBalance(cfg.lb)
	if err != nil {
		return nil, err
	}
	io, err := engine.ParseIO(cfg.io)
	if err != nil {
		return nil, err
	}
	pin := engine.PinOff
	if cfg.pin {
		pin = engine.PinOn
	}
	policy, err := engine.ParseOffloadPolicy(cfg.offloadPolicy)
	if err != nil {
		return nil, err
	}
	addrs, ls := []string{cfg.addr}, []engine.Listener(nil)
	if cfg.inherited != nil {
		if ls, err = inheritedListeners(cfg.inherited); err != nil {
			return nil, err
		}
		addrs = nil
	}
	ecfg := engine.Config{
		Addrs:            addrs,
		Listeners:        ls,
		Loops:            cfg.loops,
		Balance:          lb,
		IO:               io,
		Pin:              pin,
		MaxConns:         cfg.maxConns,
		IdleTimeout:      negativeIfZero(cfg.idleTimeout),
		LingerTimeout:    cfg.lingerTimeout(),
		ReadBufferSize:   cfg.readBuf,
		MaxFreeIOs:       cfg.maxFreeIOs,
		RingReleaseAfter: cfg.ringRelease,
		MaxInbound:       cfg.maxInbound(),
		OffloadWorkers:   cfg.offloadWorkers,
		OffloadQueue:     cfg.offloadQueue,
		OffloadPolicy:    policy,
		ProxyProtocol:    cfg.proxyProtocol,
		SlowCallback:     negativeIfZero(cfg.slowCallback),
		Logger:           log,
	}
	if p == nil {
		return startLoopProxy(cfg, ecfg, log)
	}
	h := &loopHandler{proto: p, headerTimeout: cfg.headerTimeout, drainGrace: cfg.drainGrace}
	for range cfg.loops {
		h.scratch = append(h.scratch, &proto.Scratch{})
	}
	e, err := engine.Start(h, ecfg)
	if err != nil {
		return nil, err
	}
	return &loopServer{e: e, proto: p}, nil
}

func (s *loopServer) addr() string { return s.e.Addrs()[0].String() }
func (s *loopServer) loops() int   { return s.e.Loops() }

func (s *loopServer) shutdown(ctx context.Context) error {
	defer proto.Close(s.proto)
	return s.e.Shutdown(ctx)
}

// spareProc returns the GOMAXPROCS the loop model runs with when procs,
// the current one, leaves no P beyond the loops and the GOMAXPROCS
// environment variable (env) has not set it: loops + 1; else 0, leave it.
//
// Each loop holds a P while it runs and while it waits in epoll_pwait.
// With no P idle, the runtime's monitor (sysmon) takes the P of a loop
// that has waited for 20µs, hands it to another thread to look for work
// (a futex wake-up and two context switches for nothing, since the loop's
// goroutines have none), and keeps polling every 20µs instead of backing
// off. One spare P stops that: with HTTP pipelined 16 deep on one CPU the
// server made 0.0020 context switches' worth of sysmon wake-ups
// (nanosleep) per request instead of 0.0060, and 0.0146 context switches
// in all instead of 0.020 (docs/adr/0017-spare-p.md). The spare P also
// lets offloaded work run while every loop is busy.
func spareProc(loops, procs int, env string) int {
	if env != "" || procs > loops {
		return 0
	}
	return loops + 1
}

// negativeIfZero maps the flag's "0: never" to the engine's "negative: off".
func negativeIfZero(d time.Duration) time.Duration {
	if d <= 0 {
		return -1
	}
	return d
}
