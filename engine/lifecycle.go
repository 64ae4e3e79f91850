package engine

import (
	"context"
	"fmt"
	"time"
)

// ShutdownGrace is how long Shutdown, once its context has ended and the
// loops have closed every connection (cancelling the contexts of their
// offload tasks), still waits for those tasks to return before it gives up
// on them and returns.
const ShutdownGrace = 50 * time.Millisecond

// onStart calls the handler's OnStart, if it has one, before any loop
// runs. A panic there fails Start.
func (e *Engine) onStart(h Handler) (err error) {
	s, ok := h.(Starter)
	if !ok {
		return nil
	}
	e.starting.Store(true)
	defer e.starting.Store(false)
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("engine: panic in OnStart: %v", r)
		}
	}()
	s.OnStart(e)
	return nil
}

// closePool closes the offload pool once the loops are gone (nothing
// submits any more) and waits for its workers: until ctx ends, then
// ShutdownGrace more for tasks whose contexts were cancelled. Tasks still
// running after that are counted, logged and left behind: a task that
// ignores its context must not hold Shutdown past its deadline.
func (e *Engine) closePool(ctx context.Context) error {
	e.stopWatchdog()
	if e.pool == nil {
		return nil
	}
	err := e.pool.Close(ctx)
	if err == nil {
		return nil
	}
	grace, cancel := context.WithTimeout(context.Background(), ShutdownGrace)
	defer cancel()
	if e.pool.Close(grace) == nil {
		return nil
	}
	// Queued tasks will not start (their contexts are cancelled); the
	// running ones ignore theirs.
	ps := e.pool.Stats()
	e.stuck.Store(ps.Busy)
	e.log.Error("offload tasks ignored their cancelled context; shutdown does not wait for them",
		"stuck", ps.Busy, "queued", ps.Depth, "grace", ShutdownGrace)
	return err
}
