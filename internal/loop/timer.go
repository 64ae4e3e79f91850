package loop

import (
	"fmt"
	"math"
	"time"
)

// A connection has at most one entry in the loop's deadline heap, at the
// earliest of its deadlines (idle, read, write, linger, dial). Activity
// does not touch the heap: when an entry fires early, checkConn finds
// nothing expired and re-arms it at the real deadline. So a busy connection
// costs no heap work per request, and an idle one costs O(log n) per idle
// period. Functions scheduled with Schedule have a heap of their own, so
// that a connection's entry is 16 bytes (heap.go).

// Timer is a function scheduled on a loop with Schedule.
type Timer struct {
	l   *Loop
	idx int // index in the heap; -1 when not armed
	fn  func()
}

// Schedule runs fn on the loop after d. Loop-only; fn must not block.
func (l *Loop) Schedule(d time.Duration, fn func()) *Timer {
	t := &Timer{l: l, idx: -1, fn: fn}
	l.timers.push(timerEntry{when: l.clock() + int64(d), t: t})
	return t
}

// Stop cancels the timer and reports whether it was still pending. Loop-only.
func (t *Timer) Stop() bool {
	if t.idx < 0 {
		return false
	}
	t.l.timers.removeAt(t.idx)
	return true
}

// removeConn drops c's deadline, if armed.
func (l *Loop) removeConn(c *Conn) {
	if c.tidx.get() >= 0 {
		l.deadlines.removeAt(c.tidx.get())
	}
}

// armConn makes sure c's entry fires no later than when (0: nothing to do).
func (l *Loop) armConn(c *Conn, when int64) {
	switch {
	case when == 0 || c.state == stateClosed:
	case c.tidx.get() < 0:
		l.deadlines.push(connEntry{when: when, c: c})
	case when < l.deadlines.item(c.tidx.get()).when:
		l.deadlines.fix(c.tidx.get(), connEntry{when: when, c: c})
	}
}

// nextTimer returns the earliest time in the two heaps.
func (l *Loop) nextTimer() (int64, bool) {
	cw, cok := l.deadlines.next()
	tw, tok := l.timers.next()
	if !tok || (cok && cw <= tw) {
		return cw, cok
	}
	return tw, true
}

// fireTimers runs every entry of the two heaps due by now, earliest first,
// and reports whether there was one.
func (l *Loop) fireTimers() (fired bool) {
	for {
		cw, cok := l.deadlines.next()
		tw, tok := l.timers.next()
		switch {
		case cok && cw <= l.now && (!tok || cw <= tw):
			l.checkConn(l.deadlines.removeAt(0).c)
		case tok && tw <= l.now:
			l.runTimer(l.timers.removeAt(0).t)
		default:
			return fired
		}
		fired = true
		l.flushDirty()
	}
}

func (l *Loop) runTimer(t *Timer) {
	defer l.leave(nil, "scheduled function", l.enter())
	t.fn()
}

// checkConn closes c if one of its deadlines passed, else re-arms it at the
// earliest one left.
func (l *Loop) checkConn(c *Conn) {
	now := l.now
	x := c.ext
	switch c.state {
	case stateLingering:
		if now >= c.lastActive+int64(l.cfg.LingerTimeout) {
			l.finish(c, c.closeReason())
			return
		}
	case stateConnecting:
		if x != nil && x.dialDeadline != 0 && now >= x.dialDeadline {
			l.finish(c, ErrDialTimeout)
			return
		}
	case stateOpen, stateClosing:
		owed := c.outq().Len() > 0
		switch {
		case owed && l.cfg.WriteTimeout > 0 && now >= c.lastActive+int64(l.cfg.WriteTimeout),
			owed && x != nil && x.writeDeadline != 0 && now >= x.writeDeadline:
			l.abort(c, ErrWriteTimeout)
			return
		case x != nil && x.readDeadline != 0 && now >= x.readDeadline && c.state == stateOpen:
			l.close(c, ErrReadTimeout)
		case l.cfg.IdleTimeout > 0 && now >= c.lastActive+int64(l.cfg.IdleTimeout) && c.state == stateOpen:
			l.close(c, ErrIdleTimeout)
		}
		if c.state == stateClosed {
			return
		}
	}
	l.armConn(c, l.deadline(c))
}

// deadline returns the earliest pending deadline of c, or 0.
func (l *Loop) deadline(c *Conn) int64 {
	d := int64(math.MaxInt64)
	at := func(t int64) {
		if t != 0 && t < d {
			d = t
		}
	}
	x := c.ext
	switch c.state {
	case stateLingering:
		at(c.lastActive + int64(l.cfg.LingerTimeout))
	case stateConnecting:
		if x != nil {
			at(x.dialDeadline)
		}
	case stateOpen, stateClosing:
		if l.cfg.IdleTimeout > 0 && c.state == stateOpen {
			at(c.lastActive + int64(l.cfg.IdleTimeout))
		}
		if c.outq().Len() > 0 {
			if l.cfg.WriteTimeout > 0 {
				at(c.lastActive + int64(l.cfg.WriteTimeout))
			}
			if x != nil {
				at(x.writeDeadline)
			}
		}
		if x != nil && c.state == stateOpen {
			at(x.readDeadline)
		}
	}
	if d == math.MaxInt64 {
		return 0
	}
	return d
}

func (l *Loop) scheduleTick() {
	l.Schedule(l.cfg.TickInterval, func() {
		l.callTick()
		if !l.stop {
			l.scheduleTick()
		}
	})
}

func handlerName(h Handler) string {
	// The engine's adapter names the handler it wraps.
	if w, ok := h.(interface{ Wrapped() any }); ok {
		return fmt.Sprintf("%T", w.Wrapped())
	}
	return fmt.Sprintf("%T", h)
}
