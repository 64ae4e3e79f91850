package loop

// The drain state (docs/architecture.md, "Operations"): a loop that was
// asked to Quiesce has closed its listeners and accepts nothing more, goes
// on serving the connections it owns, has told the handler of each one
// (DrainHook), and calls the empty function it was given once it owns no
// connection. It leaves that state only by stopping (Drain, Abort).
//
//	serving ──Quiesce──▶ quiescing ──last connection gone──▶ empty() called
//	                        │                                  │
//	                        └──────── Drain / Abort ───────────┴──▶ stopped
//
// Unlike Drain, Quiesce closes nothing: the handler decides when each
// connection is done (an HTTP server after its next response, or once the
// connection stayed idle for a grace), since only the protocol knows where
// a request ends.

// DrainHook is an optional interface of a Handler: OnDrain is called once
// for each open connection when its loop starts draining (Quiesce), and
// right after OnOpen for a connection opened while it drains (a dial, or a
// connection an acceptor loop handed over before it stopped). From then on
// Conn.Draining reports true. The handler finishes what the peer asked
// for, tells the peer where its protocol can (HTTP's "Connection: close"),
// and closes the connection when it is done; a connection left open is
// closed when the engine's drain deadline ends it.
type DrainHook interface {
	OnDrain(c *Conn)
}

// Draining reports whether c's loop is draining: it accepts no new
// connection, and c should be closed once it has finished what it owes.
// Loop-only.
func (c *Conn) Draining() bool { return c.loop.quiescing }

// Quiesce asks the loop to enter the drain state: close its listeners, keep
// serving, tell the handler of each open connection (DrainHook), and call
// empty once it owns no connection. empty runs on the loop's goroutine, or
// at once on the caller's if the loop has stopped; it must not block. A
// loop asked twice calls each empty function once it is empty. Safe from
// any goroutine.
func (l *Loop) Quiesce(empty func()) {
	if err := l.post(task{kind: taskQuiesce, fn: empty}); err != nil && empty != nil {
		empty()
	}
}

// quiesce runs the Quiesce task.
func (l *Loop) quiesce(empty func()) {
	if empty != nil {
		l.onEmpty = append(l.onEmpty, empty)
	}
	if !l.quiescing {
		l.quiescing = true
		l.closeListeners()
		for c := range l.conns.owned(l) {
			l.tellDrain(c)
		}
		l.flushDirty()
	}
	l.checkEmpty()
}

// tellDrain calls the handler's OnDrain for c once, if c is open and the
// loop drains.
func (l *Loop) tellDrain(c *Conn) {
	if !l.quiescing || c.state != stateOpen || c.flags&flagToldDrain != 0 {
		return
	}
	c.flags |= flagToldDrain
	if l.hooks.drain == nil {
		return
	}
	defer l.leave(c, "OnDrain", l.enter())
	l.hooks.drain.OnDrain(c)
}

// checkEmpty calls the empty functions of Quiesce once the loop owns no
// connection.
func (l *Loop) checkEmpty() {
	if !l.quiescing || l.nconns > 0 || len(l.onEmpty) == 0 {
		return
	}
	fns := l.onEmpty
	l.onEmpty = nil
	for _, fn := range fns {
		fn()
	}
}
