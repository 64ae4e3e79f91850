package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/pinion-net/pinion/engine"
)

// loopServer serves a protocol on pinion's event loops.
type loopServer struct {
	e *engine.Engine
}

// loopHandler adapts a protocol to engine.Handler: the input is handed over
// in place, and replies are queued on the connection. With a delay, each
// chunk of input is served on the offload pool instead, after that much
// blocking work.
type loopHandler struct {
	engine.BaseHandler
	proto protocol
	delay time.Duration
}

func (h *loopHandler) OnData(c *engine.Conn) {
	if h.delay > 0 {
		h.offload(c)
		return
	}
	n, err := h.proto.serve(c.Peek(-1), c)
	c.Discard(n)
	if err != nil {
		_ = c.CloseWithError(err)
	}
}

// offload hands all the input to a task that sleeps h.delay (standing for
// blocking work), then serves it; the connection's tasks run in order, so
// the replies do too. Only protocols that consume every byte (echo) may be
// served this way: a partial frame would be split between two tasks. A
// task the pool refuses (-offload-policy reject) closes the connection:
// echo has no way to answer "busy".
func (h *loopHandler) offload(c *engine.Conn) {
	// A copy: Next's slice is valid only until this callback returns.
	in := bytes.Clone(c.Next(-1))
	if len(in) == 0 {
		return
	}
	err := c.Offload(func(_ context.Context, w io.Writer) error {
		time.Sleep(h.delay)
		_, err := h.proto.serve(in, w)
		return err
	})
	if err != nil {
		_ = c.CloseWithError(err)
	}
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
	e, err := engine.Start(&loopHandler{proto: proto, delay: cfg.echoDelay}, engine.Config{
		Addrs:          []string{cfg.addr},
		Loops:          cfg.loops,
		Balance:        lb,
		Pin:            pin,
		MaxConns:       cfg.maxConns,
		IdleTimeout:    negativeIfZero(cfg.idleTimeout),
		ReadBufferSize: cfg.readBuf,
		OffloadWorkers: cfg.offloadWorkers,
		OffloadQueue:   cfg.offloadQueue,
		OffloadPolicy:  policy,
		Logger:         log,
	})
	if err != nil {
		return nil, err
	}
	return &loopServer{e: e}, nil
}

func (s *loopServer) addr() string                       { return s.e.Addrs()[0].String() }
func (s *loopServer) loops() int                         { return s.e.Loops() }
func (s *loopServer) shutdown(ctx context.Context) error { return s.e.Shutdown(ctx) }

// negativeIfZero maps the flag's "0: never" to the engine's "negative: off".
func negativeIfZero(d time.Duration) time.Duration {
	if d <= 0 {
		return -1
	}
	return d
}
