package engine

import (
	"time"

	"github.com/pinion-net/pinion/internal/loop"
)

// Loop is a handler's view of one event loop: the goroutine that owns a set
// of connections and runs their callbacks. A handler receives it in OnTick
// and from Conn.Loop; it can post work to it, schedule timers on it and
// dial from it, but not stop, rerun or rewire it: that is the Engine's.
//
// Post is safe from any goroutine; the other methods are loop-only, like
// Conn's.
type Loop loop.Loop

// ID returns the loop's number, from 0 to Engine.Loops()-1.
func (l *Loop) ID() int { return (*loop.Loop)(l).ID() }

// IO returns the loop's I/O backend: IOEpoll or IOUring (never IOAuto,
// which Start resolves).
func (l *Loop) IO() IO {
	if (*loop.Loop)(l).IO() == loop.IOUring {
		return IOUring
	}
	return IOEpoll
}

// Now returns the time the current tick started, cheaply. Loop-only.
func (l *Loop) Now() time.Time { return (*loop.Loop)(l).Now() }

// Conns returns how many connections the loop owns now, closing and
// lingering ones included. Loop-only; other goroutines read Engine.Stats.
func (l *Loop) Conns() int { return (*loop.Loop)(l).Conns() }

// Post runs fn on the loop's goroutine. Safe from any goroutine; it returns
// ErrLoopClosed if the loop has stopped, and then fn never runs.
func (l *Loop) Post(fn func()) error { return (*loop.Loop)(l).Post(fn) }

// Schedule runs fn on the loop after d and returns a Timer that can cancel
// it. Loop-only; fn must not block.
func (l *Loop) Schedule(d time.Duration, fn func()) *Timer {
	return (*Timer)((*loop.Loop)(l).Schedule(d, fn))
}

// Dial starts an outbound connection owned by this loop and returns it at
// once, with ctx as its Context. addr has the form of Config.Addrs. OnOpen
// runs when it is connected; if connecting fails or takes longer than
// Config.DialTimeout, OnClose runs with the reason and OnOpen never does.
// Loop-only: this is how a handler dials on its own loop (a proxy's
// upstream), where Engine.Dial would wait for a loop.
func (l *Loop) Dial(addr string, ctx any) (*Conn, error) {
	c, err := (*loop.Loop)(l).Dial(addr, ctx)
	return (*Conn)(c), err
}

// Timer is a function scheduled on a loop with Loop.Schedule.
type Timer loop.Timer

// Stop cancels the timer and reports whether it was still pending.
// Loop-only.
func (t *Timer) Stop() bool { return (*loop.Timer)(t).Stop() }
