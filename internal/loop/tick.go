package loop

import (
	"bytes"
	"runtime"
	"time"

	"github.com/pinion-net/pinion/poller"
)

// tick is one iteration of the loop, in the fixed order of the package doc.
func (l *Loop) tick() {
	// 1. Timeout: none if work is left that must not wait for an event,
	// else until the next timer.
	timeout := time.Duration(-1)
	if l.busy {
		timeout = 0
	} else if when, ok := l.nextTimer(); ok {
		timeout = max(time.Duration(when-l.clock()), 0)
	}

	// 2. Poll. One that may block first publishes the tallies or marks
	// them unpublished for Stats (stats.go).
	marked := timeout != 0 && l.beforePoll()
	n, err := l.wait(timeout)
	start := l.clock()
	l.now = start
	parked := timeout != 0 && time.Duration(start-l.tickEnd) >= parkedAfter
	if parked {
		l.st.Polls++
		l.pubDirty = true
	}
	if timeout != 0 {
		l.afterPoll(marked)
	}
	if err != nil {
		l.log.Error("poll failed; stopping the loop", "err", err)
		l.stop = true
		return
	}
	// With epoll a tick that handled events still blocks in its next
	// poll: readiness is level-triggered, so what this tick left (an
	// event past maxEvents, a socket with more input than the read
	// budget) is reported by that poll at once, and when nothing is
	// left the poll waits, as a C loop's epoll_wait does, instead of
	// costing an empty zero-timeout poll first. The ring polls without
	// waiting after a busy tick, to submit what the tick queued.
	worked := n > 0
	l.busy = worked && l.ring != nil
	l.st.Events += uint64(n)

	// 3. Events, then the stalled input of connections that drained.
	l.dispatchAll(n)
	if l.redeliver() {
		l.busy, worked = true, true
	}

	// 4. Timers.
	fired := l.fireTimers()
	if worked || fired {
		l.pubDirty = true // for runTasks, which publishes first if so
	}

	// 5. Posted tasks. Stalled input they unstalled waits for the next
	// tick's step 3, which then does not block.
	if l.runTasks() || len(l.ready) > 0 {
		l.busy, worked = true, true
	}

	end := l.clock()
	if worked {
		l.st.tick.Observe(time.Duration(end - start))
	}
	l.tickEnd = end
	// 6. Publish the tallies once StatsInterval has passed since the
	// last time, or at once when connections came or went or a callback
	// panicked (connEvents); a tick that did nothing changed none (step 4
	// marked events and timers; tasks may have worked since).
	if worked {
		l.pubDirty = true
	}
	if l.pubDirty && (time.Duration(end-l.pubAt) >= l.cfg.StatsInterval || l.connEvents() != l.pubConns) {
		l.publish()
	}
	l.yield(parked, end)
}

// parkedAfter is how long a poll that was allowed to block must have
// taken for the loop to count it as parked (Counters.Polls) and as a
// pause (yield): a poll that finds events ready returns in a few
// microseconds, one that waits is put to sleep and woken.
const parkedAfter = 20 * time.Microsecond

// maxEvents caps the events one tick handles. Polling is level-triggered,
// so what is left is reported again next tick; meanwhile timers and posted
// tasks wait at most one capped tick (a few milliseconds), not one per
// thousands of events.
const maxEvents = 512

// yieldAfter is how long the loop runs without passing through the Go
// scheduler before it yields once.
//
// A loop that stays busy never parks, so the runtime's monitor thread
// (sysmon) sees a goroutine running for over 10ms and preempts it, or
// retakes its P while it is in a system call and wakes another thread to
// run it; each time, sysmon goes back to polling every 20µs. Measured at
// 10,000 connections, that cost 0.13 context switches and 0.05 nanosleeps
// per request. A voluntary runtime.Gosched every couple of milliseconds
// keeps sysmon quiet.
const yieldAfter = 2 * time.Millisecond

// yield lets the scheduler run after yieldAfter of continuous work; a poll
// that blocked counts as a pause.
func (l *Loop) yield(blocked bool, now int64) {
	if blocked {
		l.lastYield = now
		return
	}
	if time.Duration(now-l.lastYield) >= yieldAfter {
		runtime.Gosched()
		l.lastYield = l.clock()
	}
}

// dispatch handles one event: errors, then writable, then readable.
func (l *Loop) dispatch(ev poller.Event) {
	fd := ev.Token.FD()
	if ev.Token.Gen() == 0 {
		l.onListener(fd)
		return
	}
	c := l.conn(fd)
	if c == nil || c.gen != ev.Token.Gen() || c.state == stateClosed {
		l.st.StaleEvents++
		return
	}
	if ev.Flags&poller.Error != 0 && c.state != stateConnecting {
		l.onError(c)
		return
	}
	if ev.Flags&(poller.Writable|poller.Error) != 0 {
		if c.state == stateConnecting {
			l.onConnected(c)
		} else {
			l.flush(c)
		}
	}
	if ev.Flags&(poller.Readable|poller.HangUp) != 0 {
		switch c.state {
		case stateOpen:
			if c.flags&pausedMask == 0 {
				l.read(c)
			} else if ev.Flags&poller.HangUp != 0 {
				l.pausedHangUp(c)
			}
		case stateLingering:
			l.drainLinger(c)
		case stateClosing:
			if ev.Flags&poller.HangUp != 0 {
				l.closeNow(c, c.closeReason())
			}
		}
	}
	l.flushDirty()
}

// onError closes a connection the poller reported in error, with the
// socket's pending error as the reason.
func (l *Loop) onError(c *Conn) {
	err := sysSocketError(int(c.fd))
	if err == nil {
		err = errHangUp
	}
	l.closeNow(c, &OpError{Op: "socket", Err: err})
}

// read reads until the kernel has no more (a short read says so without an
// extra EAGAIN system call), the read budget is spent, or the handler
// stopped reading.
func (l *Loop) read(c *Conn) {
	budget := l.cfg.ReadBudget
	for {
		n, err := sysRead(int(c.fd), l.rbuf)
		switch {
		case n > 0:
			l.st.BytesIn += uint64(n)
			c.lastActive = l.now
			l.deliver(c, l.rbuf[:n])
			budget -= n
			if n < len(l.rbuf) || budget <= 0 || c.state != stateOpen {
				return
			}
			// More input is likely waiting: flush the replies first, so
			// owed bytes stay under the watermark and the pause can act.
			l.flushDirty()
			if c.state != stateOpen || c.flags&pausedMask != 0 {
				return
			}
		case err == nil:
			l.onPeerEOF(c)
			return
		case isAgain(err):
			return
		case isInterrupted(err):
		default:
			l.closeNow(c, &OpError{Op: "read", Err: err})
			return
		}
	}
}

// deliver shows the handler its input, fresh bytes appended to what it left
// last time, and keeps what it leaves now. data aliases the read buffer;
// nil means no new bytes (Wake).
func (l *Loop) deliver(c *Conn, data []byte) {
	if c.ext != nil && c.ext.session != nil {
		if len(data) > 0 {
			c.ext.session.feed(c, data)
		}
		return
	}
	fromReadBuf := c.io == nil || c.io.in == nil
	if fromReadBuf {
		l.view = data
	} else {
		io := c.io
		in := io.in
		if io.inOff > 0 && int(io.inOff) >= len(in.B)/2 {
			in.B = in.B[:copy(in.B, in.B[io.inOff:])]
			io.inOff = 0
		}
		in.B = append(in.B, data...)
		l.view = in.B[io.inOff:]
	}
	l.active = c
	was := c.flags & (flagStalled | flagRedeliver)
	c.flags &^= flagRedeliver // this call sees the stalled input too
	l.callData(c)
	l.active = nil
	rest := l.view
	l.view = nil
	if c.state != stateOpen {
		return
	}
	switch {
	case len(rest) == 0:
		l.releaseIn(c)
	case fromReadBuf:
		io := l.ioOf(c)
		io.in = l.inPool.Get()
		io.in.B = append(io.in.B[:0], rest...)
		io.inOff = 0
	default:
		c.io.inOff = int32(len(c.io.in.B) - len(rest))
	}
	if len(rest) > l.cfg.MaxInbound {
		l.close(c, ErrInboundOverflow)
		return
	}
	l.stallIfSaturated(c, len(rest), was)
}

func (l *Loop) callData(c *Conn) {
	defer l.leave(c, "OnData", l.enter())
	l.h.OnData(c)
}

func (l *Loop) callOpen(c *Conn) {
	l.callOpenOnly(c)
	l.tellDrain(c) // opened while draining
}

func (l *Loop) callOpenOnly(c *Conn) {
	defer l.leave(c, "OnOpen", l.enter())
	l.h.OnOpen(c)
}

func (l *Loop) callClose(c *Conn, reason error) {
	defer l.leave(nil, "OnClose", l.enter())
	l.h.OnClose(c, reason)
}

func (l *Loop) callTick() {
	defer l.leave(nil, "OnTick", l.enter())
	l.h.OnTick(l)
}

// Blocked reports, from any goroutine, since when (loop clock) and for how
// long the loop has been inside one handler callback; zero when it is not
// in one. A watchdog uses it to catch a callback blocking the loop while
// it still blocks, and GoroutineID to find that callback's stack.
func (l *Loop) Blocked() (since int64, d time.Duration) {
	s := l.running.Load()
	if s == 0 {
		return 0, 0
	}
	return s, time.Duration(l.clock() - s)
}

// GoroutineID returns the ID the runtime gave the loop's goroutine (as in
// runtime.Stack's "goroutine N [...]" headers), 0 before Run.
func (l *Loop) GoroutineID() uint64 { return l.goid.Load() }

// CurrentGoroutineID returns the calling goroutine's ID, to compare with
// GoroutineID: the engine uses it to tell that a call comes from a loop.
// It costs about a microsecond (a stack header is formatted and parsed).
func CurrentGoroutineID() uint64 { return currentGoroutineID() }

// currentGoroutineID parses the calling goroutine's ID from its stack
// header. The runtime offers no other way.
func currentGoroutineID() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b, ok := bytes.CutPrefix(b, []byte("goroutine "))
	if !ok {
		return 0
	}
	var id uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + uint64(c-'0')
	}
	return id
}
