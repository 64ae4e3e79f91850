package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/pinion-net/pinion/engine"
	"github.com/pinion-net/pinion/loop"
)

// loopServer serves a protocol on pinion's event loops.
type loopServer struct {
	e     *engine.Engine
	proto protocol // closed after shutdown
}

// loopHandler adapts a protocol to engine.Handler: the input is handed over
// in place, and replies are queued on the connection. Replies owed after
// blocking work are produced on the offload pool; once a connection has a
// task there, every later reply goes through the pool too, so replies stay
// in request order.
type loopHandler struct {
	engine.BaseHandler
	proto         protocol
	headerTimeout time.Duration
	scratch       []*scratch // one per loop, by loop ID: only that loop touches it
}

// connState is what the handler keeps per connection, allocated only for
// connections that ever hold a partial request.
type connState struct {
	headerArmed bool // a read deadline for the request under way is set
}

func (h *loopHandler) OnData(c *engine.Conn) {
	sc := h.scratch[c.Loop().ID()]
	sc.now = c.Loop().Now()
	served := false // a request completed: one partial after it gets a deadline of its own
	for c.Buffered() > 0 {
		n, reply, next := h.proto.serve(sc, c.Peek(-1), sc.out[:0])
		sc.out = reply[:0]
		c.Discard(n)
		served = served || n > 0
		if !h.send(c, sc, reply, next) {
			return
		}
		if next.close || next.err != nil {
			_ = c.CloseWithError(next.err)
			return
		}
		if next.partial || n == 0 {
			if served {
				h.armHeaderDeadline(c, false)
			}
			h.armHeaderDeadline(c, next.partial)
			return
		}
	}
	h.armHeaderDeadline(c, false)
}

// send writes the replies of one serve call, through the offload pool
// when they are owed after blocking work or when earlier replies are still
// there. It reports false when the connection was closed instead.
func (h *loopHandler) send(c *engine.Conn, sc *scratch, reply []byte, next action) bool {
	if next.block <= 0 && !c.OffloadBusy() {
		_, _ = c.Write(reply)
		return true
	}
	now, later := reply, []byte(nil)
	if next.block > 0 {
		now, later = reply[:next.blockFrom], reply[next.blockFrom:]
	}
	if !c.OffloadBusy() { // nothing owed before: what needs no blocking goes now
		_, _ = c.Write(now)
		now = nil
	}
	// Copies: reply is the loop's scratch, reused by the next serve call.
	now, later, d := bytes.Clone(now), bytes.Clone(later), next.block
	err := c.Offload(func(_ context.Context, w io.Writer) error {
		if _, err := w.Write(now); err != nil {
			return err
		}
		time.Sleep(d) // the blocking work
		_, err := w.Write(later)
		return err
	})
	if err == nil {
		return true
	}
	if b, ok := h.proto.(busyReplier); ok && errors.Is(err, loop.ErrOffloadFull) {
		_, _ = c.Write(b.busy(sc, nil))
	}
	_ = c.CloseWithError(err)
	return false
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
		if st == nil {
			st = &connState{}
			c.SetContext(st)
		}
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
	busy(sc *scratch, out []byte) []byte
}

func startLoopServer(cfg serveConfig, proto protocol, log *slog.Logger) (server, error) {
	lb, err := engine.ParseBalance(cfg.lb)
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
	h := &loopHandler{proto: proto, headerTimeout: cfg.headerTimeout}
	for range cfg.loops {
		h.scratch = append(h.scratch, &scratch{})
	}
	e, err := engine.Start(h, engine.Config{
		Addrs:          []string{cfg.addr},
		Loops:          cfg.loops,
		Balance:        lb,
		Pin:            pin,
		MaxConns:       cfg.maxConns,
		IdleTimeout:    negativeIfZero(cfg.idleTimeout),
		ReadBufferSize: cfg.readBuf,
		MaxInbound:     cfg.maxInbound(),
		OffloadWorkers: cfg.offloadWorkers,
		OffloadQueue:   cfg.offloadQueue,
		OffloadPolicy:  policy,
		SlowCallback:   negativeIfZero(cfg.slowCallback),
		Logger:         log,
	})
	if err != nil {
		return nil, err
	}
	return &loopServer{e: e, proto: proto}, nil
}

func (s *loopServer) addr() string { return s.e.Addrs()[0].String() }
func (s *loopServer) loops() int   { return s.e.Loops() }

func (s *loopServer) shutdown(ctx context.Context) error {
	defer closeProtocol(s.proto)
	return s.e.Shutdown(ctx)
}

// negativeIfZero maps the flag's "0: never" to the engine's "negative: off".
func negativeIfZero(d time.Duration) time.Duration {
	if d <= 0 {
		return -1
	}
	return d
}
