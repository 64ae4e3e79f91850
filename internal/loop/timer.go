package loop

import (
	"fmt"
	"math"
	"time"
)

// A connection has at most one entry in the heap, at the earliest of its
// deadlines (idle, read, write, linger, dial). Activity does not touch the
// heap: when an entry fires early, checkConn finds nothing expired and
// re-arms it at the real deadline. So a busy connection costs no heap work
// per request, and an idle one costs O(log n) per idle period.

// timerEntry is a heap element: either a connection's deadline or a
// scheduled function.
type timerEntry struct {
	when int64
	c    *Conn
	t    *Timer
}

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

type timerHeap []timerEntry

func (h timerHeap) next() (int64, bool) {
	if len(h) == 0 {
		return 0, false
	}
	return h[0].when, true
}

func (h timerHeap) setIndex(i int) {
	e := &h[i]
	if e.c != nil {
		e.c.tidx = int32(i)
	} else {
		e.t.idx = i
	}
}

func (h timerHeap) less(i, j int) bool { return h[i].when < h[j].when }

func (h timerHeap) swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h.setIndex(i)
	h.setIndex(j)
}

func (h timerHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(i, p) {
			return
		}
		h.swap(i, p)
		i = p
	}
}

func (h timerHeap) down(i int) {
	n := len(h)
	for {
		m := i
		if l := 2*i + 1; l < n && h.less(l, m) {
			m = l
		}
		if r := 2*i + 2; r < n && h.less(r, m) {
			m = r
		}
		if m == i {
			return
		}
		h.swap(i, m)
		i = m
	}
}

func (h *timerHeap) push(e timerEntry) {
	*h = append(*h, e)
	i := len(*h) - 1
	h.setIndex(i)
	h.up(i)
}

// removeAt removes entry i and marks it unarmed.
func (h *timerHeap) removeAt(i int) timerEntry {
	old := *h
	last := len(old) - 1
	e := old[i]
	if i != last {
		old.swap(i, last)
	}
	old[last] = timerEntry{}
	*h = old[:last]
	if i != last {
		h.down(i)
		h.up(i)
	}
	if e.c != nil {
		e.c.tidx = -1
	} else {
		e.t.idx = -1
	}
	return e
}

// fix moves entry i to a new time.
func (h timerHeap) fix(i int, when int64) {
	h[i].when = when
	h.down(i)
	h.up(i)
}

// remove drops c's entry, if armed.
func (h *timerHeap) remove(c *Conn) {
	if c.tidx >= 0 {
		h.removeAt(int(c.tidx))
	}
}

// armConn makes sure c's entry fires no later than when (0: nothing to do).
func (l *Loop) armConn(c *Conn, when int64) {
	switch {
	case when == 0 || c.state == stateClosed:
	case c.tidx < 0:
		l.timers.push(timerEntry{when: when, c: c})
	case when < l.timers[c.tidx].when:
		l.timers.fix(int(c.tidx), when)
	}
}

// fireTimers runs every entry due by now.
func (l *Loop) fireTimers() {
	for len(l.timers) > 0 && l.timers[0].when <= l.now {
		e := l.timers.removeAt(0)
		if e.c != nil {
			l.checkConn(e.c)
		} else {
			l.runTimer(e.t)
		}
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
		owed := c.out.Len() > 0
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
		if c.out.Len() > 0 {
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
