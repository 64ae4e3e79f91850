package engine

import (
	"errors"

	"github.com/pinion-net/pinion/internal/loop"
)

// ErrOnLoop is returned by the blocking Engine methods, Dial and Shutdown,
// when they are called where waiting would block the loops they wait for:
// inside a handler callback or OnStart. Dial then does nothing (use
// DialAsync); Shutdown, in a callback, starts the shutdown without waiting
// for it.
var ErrOnLoop = errors.New("engine: blocking call on a loop goroutine or in OnStart")

// DialAsync opens an outbound connection and never blocks: it is safe from
// any goroutine, handler callbacks and OnStart included. Called from a
// callback, the connection belongs to the calling loop (a proxy's two
// sides then share a loop and need no locking); otherwise the loops are
// taken in turn. done runs on the owning loop exactly once, unless
// DialAsync returns an error: with the connection's handle once connected,
// just before its OnOpen, or with the reason it failed (a dial error, the
// dial timeout, ErrStopped when the engine stops first). userCtx is the
// connection's Context from the start.
func (e *Engine) DialAsync(addr string, userCtx any, done func(Handle, error)) error {
	if e.stopped.Load() || len(e.loops) == 0 {
		return ErrStopped
	}
	l := e.callingLoop()
	if l == nil {
		l = e.nextLoop()
	}
	err := l.DialAsync(addr, userCtx, func(h loop.Handle, err error) {
		if errors.Is(err, loop.ErrLoopClosed) || errors.Is(err, loop.ErrShutdown) {
			err = ErrStopped
		}
		done(Handle(h), err)
	})
	if errors.Is(err, loop.ErrLoopClosed) {
		return ErrStopped
	}
	return err
}

// callingLoop returns the loop whose goroutine is calling, or nil.
func (e *Engine) callingLoop() *loop.Loop {
	id := loop.CurrentGoroutineID()
	for _, l := range e.loops {
		if l.GoroutineID() == id {
			return l
		}
	}
	return nil
}

// Starter is an optional interface of a Handler: Start calls OnStart once,
// with the engine, after the listening sockets are open and before any
// loop runs, so no callback of a connection comes before it. The handler
// keeps e to dial (DialAsync; a blocking Dial returns ErrOnLoop here),
// read Stats or shut down later.
type Starter interface {
	OnStart(e *Engine)
}
