package engine

import (
	"context"
	"sync"
)

// drainState is the engine's drain (docs/adr/0016-drain-state-ops.md).
type drainState struct {
	once  sync.Once
	on    chan struct{} // closed when Drain starts
	empty chan struct{} // closed once every loop owns no connection
}

func (d *drainState) init() {
	d.on = make(chan struct{})
	d.empty = make(chan struct{})
}

// Drain puts the engine in its drain state, as a load balancer expects of a
// server it is taking out of rotation: every loop closes its listening
// sockets, so nothing new is accepted (the sockets themselves live on in
// any other process they were handed to, Listeners); connections open now
// are served on; the handler hears of each through DrainHook, and
// Conn.Draining reports true, so that protocols end their connections
// where a request ends; Draining and Stats.Draining report true from the
// first instant. The state is posted to each loop as a task: nothing of a
// loop is touched from the caller's goroutine.
//
// Drain returns nil once no connection is left, or ctx.Err() when ctx ends
// first; either way the engine stays in the drain state, and Shutdown
// stops it (closing what is left, flushed, at once when nothing is left).
// Calling it again waits again. It returns ErrStopped after Shutdown
// started, and ErrOnLoop inside a handler callback or OnStart, where
// waiting would block a loop it waits for.
func (e *Engine) Drain(ctx context.Context) error {
	if e.starting.Load() || e.callingLoop() != nil {
		return ErrOnLoop
	}
	if e.stopped.Load() {
		return ErrStopped
	}
	e.drain.once.Do(func() {
		close(e.drain.on)
		// Every loop stops accepting before any connection hears of the
		// drain: a client whose connection a drained loop ends must not
		// reconnect to a socket of a loop still accepting.
		var accepting sync.WaitGroup
		for _, l := range e.loops {
			accepting.Add(1)
			l.StopAccepting(accepting.Done)
		}
		accepting.Wait()
		var wg sync.WaitGroup
		for _, l := range e.loops {
			wg.Add(1)
			l.Quiesce(wg.Done)
		}
		// Ends when every loop is empty or has stopped: a stopped loop
		// calls its Quiesce function on its way out.
		go func() { wg.Wait(); close(e.drain.empty) }()
	})
	select {
	case <-e.drain.empty:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Draining reports whether Drain has been called. Safe from any goroutine.
func (e *Engine) Draining() bool {
	select {
	case <-e.drain.on:
		return true
	default:
		return false
	}
}
