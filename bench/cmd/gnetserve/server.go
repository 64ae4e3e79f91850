package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"

	"github.com/panjf2000/gnet/v2"
	gerrors "github.com/panjf2000/gnet/v2/pkg/errors"
)

// errStopped is the engine ending without being asked to.
var errStopped = errors.New("gnet engine stopped by itself")

// server is the part of the event handler the protocols share: it reports
// the boot and bounds the connections. Its methods run on gnet's
// goroutines; conns is the only field more than one of them writes.
type server struct {
	gnet.BuiltinEventEngine

	cfg    config
	stdout io.Writer        // gets the listening line, once
	booted chan gnet.Engine // receives the engine once it has booted; capacity 1
	conns  atomic.Int64     // connections opened and not yet closed, refused ones included
}

// newServer returns the shared handler for cfg.
func newServer(cfg config, stdout io.Writer) *server {
	return &server{cfg: cfg, stdout: stdout, booted: make(chan gnet.Engine, 1)}
}

// OnBoot prints the listening line and hands the engine to serve. gnet
// calls it once, on the goroutine of gnet.Run, after binding the first
// listener and before starting the loops; the other loops' listeners are
// bound right after, and connections made meanwhile wait in the first
// one's backlog.
func (s *server) OnBoot(e gnet.Engine) gnet.Action {
	fmt.Fprintf(s.stdout, "gnetserve: listening on %s (%s, gnet, %d loops)\n", s.cfg.addr, s.cfg.proto, s.cfg.loops)
	s.booted <- e
	return gnet.None
}

// admit counts a connection gnet has just opened and reports whether it is
// within -max-conns. A refused connection is still counted: gnet calls
// OnClose for it as for any other, which uncounts it.
func (s *server) admit() bool {
	n := s.conns.Add(1)
	return s.cfg.maxConns < 0 || n <= int64(s.cfg.maxConns)
}

// OnOpen closes a connection beyond -max-conns. It runs on the loop that
// owns c.
func (s *server) OnOpen(gnet.Conn) ([]byte, gnet.Action) {
	if !s.admit() {
		return nil, gnet.Close
	}
	return nil, gnet.None
}

// OnClose uncounts a connection. It runs on the loop that owned c, once
// for every OnOpen, including at shutdown.
func (s *server) OnClose(gnet.Conn, error) gnet.Action {
	s.conns.Add(-1)
	return gnet.None
}

// serve runs gnet with the handler of cfg.proto until ctx is done, then
// stops it and waits for gnet.Run to return. It returns an error when the
// engine fails to start, stops by itself, or does not stop in time.
func serve(ctx context.Context, cfg config, stdout io.Writer, log *slog.Logger) error {
	s := newServer(cfg, stdout)
	var h gnet.EventHandler = &echoServer{server: s}
	if cfg.proto == "http" {
		h = newHTTPServer(s)
	}
	opts := []gnet.Option{
		gnet.WithMulticore(true),
		gnet.WithNumEventLoop(cfg.loops),
		gnet.WithReusePort(true),
		gnet.WithReuseAddr(true), // as Go's net.Listen, so a restart binds past TIME_WAIT
		gnet.WithLockOSThread(cfg.pin),
		gnet.WithReadBufferCap(cfg.readBuf),
		gnet.WithTCPNoDelay(gnet.TCPNoDelay),
		gnet.WithLogger(gnetLogger{log}),
	}
	done := make(chan error, 1)
	go func() { done <- gnet.Run(h, "tcp://"+cfg.addr, opts...) }()

	var eng gnet.Engine
	select {
	case err := <-done:
		if err == nil {
			err = errStopped
		}
		return fmt.Errorf("gnet: %w", err)
	case eng = <-s.booted:
	}
	select {
	case err := <-done: // started, then failed or stopped on its own
		if err == nil {
			err = errStopped
		}
		return fmt.Errorf("gnet: %w", err)
	case <-ctx.Done():
	}

	stopCtx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	// Engine.Stop polls for the end every 500 ms, so a stop takes up to
	// that long. It reports ErrEngineInShutdown when the engine has just
	// stopped by itself; either way gnet.Run is then returning.
	if err := eng.Stop(stopCtx); err != nil && !errors.Is(err, gerrors.ErrEngineInShutdown) {
		return fmt.Errorf("stop gnet: %w", err)
	}
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("gnet: %w", err)
		}
		return nil
	case <-stopCtx.Done():
		return fmt.Errorf("stop gnet: %w", stopCtx.Err())
	}
}
