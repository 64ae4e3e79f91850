package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/pinion-net/pinion/engine"
)

// loopServer serves a protocol on pinion's event loops.
type loopServer struct {
	e *engine.Engine
}

// loopHandler adapts a protocol to engine.Handler: the input is handed over
// in place, and replies are queued on the connection.
type loopHandler struct {
	engine.BaseHandler
	proto protocol
}

func (h *loopHandler) OnData(c *engine.Conn) {
	n, err := h.proto.serve(c.Peek(-1), c)
	c.Discard(n)
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
	e, err := engine.Start(&loopHandler{proto: proto}, engine.Config{
		Addrs:          []string{cfg.addr},
		Loops:          cfg.loops,
		Balance:        lb,
		Pin:            pin,
		MaxConns:       cfg.maxConns,
		IdleTimeout:    negativeIfZero(cfg.idleTimeout),
		ReadBufferSize: cfg.readBuf,
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
