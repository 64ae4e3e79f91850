package loop

import (
	"github.com/pinion-net/pinion/internal/sock"
	"github.com/pinion-net/pinion/poller"
)

// Dial starts an outbound connection owned by this loop and returns it at
// once, with ctx attached as its Context. addr has the listen form
// ("tcp://127.0.0.1:80", "unix:///run/x.sock" or "host:port"). OnOpen runs
// when it is connected; if connecting fails or takes longer than
// Config.DialTimeout, OnClose runs with the reason and OnOpen never does.
// Loop-only.
func (l *Loop) Dial(addr string, ctx any) (*Conn, error) {
	return l.dial(addr, ctx, nil)
}

// dial is Dial with a waiter told of the outcome before OnOpen or OnClose.
func (l *Loop) dial(addr string, ctx any, done func(error)) (*Conn, error) {
	if l.stop || l.draining {
		return nil, ErrShutdown
	}
	a, err := sock.ParseAddr(addr)
	if err != nil {
		return nil, err
	}
	// A socket that connected at once (unix sockets do) still waits for
	// its writable event: completing the dial here would run the waiter
	// and OnOpen before Dial returns, when DialAsync's waiter cannot know
	// the Conn yet, and inside whatever callback called Dial.
	fd, _, err := sock.Dial(a)
	if err != nil {
		return nil, err
	}
	if l.cfg.NoDelay {
		_ = sock.SetNoDelay(fd, true)
	}
	c, err := l.register(fd, stateConnecting, poller.Write)
	if err != nil {
		_ = sysClose(fd)
		return nil, err
	}
	c.ctx = ctx
	// A dialed connection is a client: its output is its own, not an
	// answer to its input, so owing its peer does not stop it reading
	// (SetOwedPausesRead).
	c.flags |= flagDialed | flagReadOwing
	l.st.Dialed++
	x := c.extra()
	x.dialDone = done
	x.dialDeadline = l.clock() + int64(l.cfg.DialTimeout)
	l.armConn(c, x.dialDeadline)
	return c, nil
}

// onConnected completes a dial when the socket became writable.
func (l *Loop) onConnected(c *Conn) {
	if err := sock.ConnectResult(int(c.fd)); err != nil {
		if isInProgress(err) {
			return // woken early: wait for the next writable event
		}
		l.closeNow(c, &OpError{Op: "dial", Err: err})
		return
	}
	c.state = stateOpen
	c.lastActive = l.now
	x := c.ext
	x.dialDeadline = 0
	if done := x.dialDone; done != nil {
		x.dialDone = nil
		l.callDialDone(c, done, nil)
		if c.state != stateOpen {
			return
		}
	}
	if c.outq().Len() > 0 || c.flags&flagWriteClosed != 0 {
		// Written while connecting: flushDirty left it for now.
		l.markDirty(c)
	}
	l.removeConn(c)
	if l.cfg.IdleTimeout > 0 {
		l.armConn(c, l.now+int64(l.cfg.IdleTimeout))
	}
	l.setInterest(c)
	if c.state != stateOpen {
		return
	}
	l.callOpen(c)
	l.flushDirty()
}

// DialAsync asks the loop to dial addr from any goroutine (its own
// included: the dial starts when the task runs, and nothing blocks); done
// runs on the loop with the connection's handle once it is connected, and
// before its OnOpen, or with the error. done is called exactly once unless
// DialAsync returns an error: with ErrLoopClosed if the loop stops before
// the dial could start.
func (l *Loop) DialAsync(addr string, ctx any, done func(Handle, error)) error {
	fail := func(err error) { done(Handle{}, err) }
	return l.post(task{kind: taskDial, done: fail, fn: func() {
		var c *Conn
		c, err := l.dial(addr, ctx, func(err error) {
			if err != nil {
				done(Handle{}, err)
				return
			}
			done(c.Handle(), nil)
		})
		if err != nil {
			l.callDialDone(nil, fail, err)
		}
	}})
}

// callDialDone runs a dial's waiter; a panic closes c.
func (l *Loop) callDialDone(c *Conn, done func(error), err error) {
	defer l.leave(c, "dial completion", l.enter())
	done(err)
}
