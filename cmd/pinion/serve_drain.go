package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/pinion-net/pinion/engine"
)

// The drain of `pinion serve` (docs/operations.md): on SIGTERM, and in the
// old process of a hot restart once the new one is ready, the server stops
// accepting, /readyz answers 503, and each connection ends where a request
// ends. The protocols see scratch.draining: HTTP answers every request
// with "Connection: close" and closes after the response, RESP and echo
// close once they have answered all they read. A connection idle when the
// drain starts is closed only after it stayed idle for -drain-grace:
// closing it at once would race a request already on the wire, which the
// client would then see go unanswered. A proxy's relay has no request to
// end at: it is closed once quiet (proxy_drain.go).

// OnDrain arms the idle check of a connection that drains.
func (h *loopHandler) OnDrain(c *engine.Conn) {
	h.closeWhenIdle(c.Handle(), c.Loop())
}

// closeWhenIdle closes the connection after the grace if it is idle then:
// nothing buffered (a partial request), owed or offloaded. A busy one is
// looked at again a grace later; one that completes a request meanwhile
// has been closed by then.
func (h *loopHandler) closeWhenIdle(hd engine.Handle, l *engine.Loop) {
	l.Schedule(h.drainGrace, func() {
		_ = hd.Post(func(c *engine.Conn, err error) {
			if err != nil || !c.Open() {
				return
			}
			if c.Buffered() == 0 && c.OutboundBuffered() == 0 && !c.OffloadBusy() {
				_ = c.CloseWithError(errDrained)
				return
			}
			h.closeWhenIdle(hd, l)
		})
	})
}

// errDrained is the close reason of a connection the drain closed idle.
var errDrained = errors.New("drained: idle during the drain")

func (s *loopServer) drain(ctx context.Context) error { return s.e.Drain(ctx) }

// drain stops accepting, makes each connection end after its next
// request, and closes the idle ones after the grace; it returns once no
// connection is left or ctx ends.
func (s *goroutineServer) drain(ctx context.Context) error {
	s.mu.Lock()
	if !s.draining.Swap(true) {
		_ = s.ln.Close() // a handed-over socket lives on in the new process
		if s.proto == nil {
			s.drainRelays() // closed once quiet (proxy_drain.go)
		} else {
			at := time.Now().Add(s.cfg.drainGrace)
			for c := range s.conns {
				_ = c.SetReadDeadline(at)
			}
		}
	}
	s.mu.Unlock()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		s.mu.Lock()
		n := len(s.conns)
		s.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// drainAndShutdown drains srv for most of timeout, then shuts it down
// within the rest: what is still open then is closed gracefully (flushed,
// FIN), or at once when the time is up. It returns nil when the drain
// emptied the server in time.
func drainAndShutdown(srv server, timeout time.Duration, log *slog.Logger) error {
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	dctx, dcancel := context.WithTimeout(ctx, timeout-min(timeout/10, time.Second))
	derr := srv.drain(dctx)
	dcancel()
	log.Info("drained", "pid", os.Getpid(), "took", time.Since(start).Round(time.Millisecond), "err", derr)
	if err := srv.shutdown(ctx); err != nil {
		return fmt.Errorf("shutdown: %w", err) // README.md gives this text
	}
	return nil
}
