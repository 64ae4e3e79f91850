package loop

import (
	"io"
)

// Close closes c gracefully: input is no longer delivered, owed bytes are
// flushed, FIN is sent, and OnClose(c, nil) follows once the peer closed
// too or the linger timeout passed. Closing twice is harmless.
func (c *Conn) Close() error { return c.CloseWithError(nil) }

// CloseWithError is Close with a reason handed to OnClose, for example a
// codec's error for a malformed frame.
func (c *Conn) CloseWithError(reason error) error {
	if c.state != stateOpen && c.state != stateConnecting {
		return ErrClosed
	}
	c.loop.close(c, reason)
	return nil
}

// Abort closes c at once with a reset (SO_LINGER 0): owed bytes are
// dropped and their completions get ErrClosed. OnClose gets reason.
func (c *Conn) Abort(reason error) error {
	if c.state == stateClosed {
		return ErrClosed
	}
	c.loop.abort(c, reason)
	return nil
}

// close starts a graceful close.
func (l *Loop) close(c *Conn, reason error) {
	switch c.state {
	case stateConnecting:
		l.finish(c, reason)
		return
	case stateOpen:
	default:
		return
	}
	c.state = stateClosing
	if c.ext != nil && c.ext.session != nil {
		// No more input will be delivered: the session reads EOF and can
		// still write what it owes.
		c.ext.session.peerEOF()
	}
	l.releaseIn(c)
	if c.outq().Len() == 0 && !c.OffloadBusy() {
		l.startLinger(c, reason)
		return
	}
	if reason != nil {
		c.extra().reason = reason
	}
	l.setInterest(c)
	if l.cfg.WriteTimeout > 0 {
		l.armConn(c, l.now+int64(l.cfg.WriteTimeout))
	}
}

// startLinger runs once the owed bytes are out: FIN, then wait for the
// peer's FIN while discarding input, so that input arriving after our close
// does not make the kernel answer with a reset that would destroy bytes the
// peer has not read yet. reason is the close's; it is kept in the
// connection's extension only when the connection goes on lingering, so a
// close that finishes at once (the peer's FIN is in: the usual end)
// allocates nothing to hold it.
func (l *Loop) startLinger(c *Conn, reason error) {
	if c.OffloadBusy() {
		return // offNext calls settle again once the tasks are done
	}
	if c.flags&flagPeerEOF != 0 || l.cfg.LingerTimeout < 0 {
		l.finish(c, reason)
		return
	}
	if reason != nil {
		c.extra().reason = reason
	}
	if c.flags&flagShutWR == 0 {
		c.flags |= flagShutWR
		if err := sysShutdownWrite(int(c.fd)); err != nil {
			l.finish(c, reason)
			return
		}
	}
	c.state = stateLingering
	c.lastActive = l.now
	l.setInterest(c)
	if c.state == stateLingering {
		l.armConn(c, l.now+int64(l.cfg.LingerTimeout))
	}
}

// drainLinger reads and drops input of a lingering connection until EOF.
func (l *Loop) drainLinger(c *Conn) {
	for range 4 {
		n, err := sysRead(int(c.fd), l.rbuf)
		switch {
		case n > 0:
			l.st.BytesIn += uint64(n)
			continue
		case err == nil:
			l.finish(c, c.closeReason())
		case isAgain(err):
		case isInterrupted(err):
			continue
		default:
			l.finish(c, c.closeReason())
		}
		return
	}
}

func (c *Conn) closeReason() error {
	if c.ext != nil {
		return c.ext.reason
	}
	return nil
}

// abort resets the connection.
func (l *Loop) abort(c *Conn, reason error) {
	if c.state == stateClosed {
		return
	}
	_ = sysSetLinger0(int(c.fd))
	l.finish(c, reason)
}

// closeNow closes without flushing, for connections that failed.
func (l *Loop) closeNow(c *Conn, reason error) { l.finish(c, reason) }

// onPeerEOF handles the peer's FIN: input ends, owed bytes still go out,
// then we close.
func (l *Loop) onPeerEOF(c *Conn) {
	c.flags |= flagPeerEOF
	if c.ext != nil && c.ext.session != nil {
		c.ext.session.peerEOF()
	}
	switch {
	case c.flags&flagShutWR != 0:
		// Only an open connection is read, so our FIN came from
		// CloseWrite: the peer's FIN ends it, and the peer closed.
		l.finish(c, io.EOF)
	case c.state == stateOpen && c.flags&flagAbandon == 0 && l.hooks.peerClose != nil && (c.ext == nil || c.ext.session == nil):
		// The handler decides: it may keep writing (see PeerCloser). A
		// connection set to abandon its work on FIN (SetAbandonOnFIN)
		// closes below instead: its peer gave up, there is no half-close.
		l.setInterest(c)
		if c.state == stateOpen {
			l.callPeerClose(c)
		}
	case c.state == stateOpen:
		if c.flags&flagAbandon != 0 {
			l.abandonWork(c)
		}
		c.state = stateClosing
		if c.outq().Len() == 0 && !c.OffloadBusy() {
			l.finish(c, io.EOF)
			return
		}
		c.extra().reason = io.EOF
		l.setInterest(c)
	}
}

// finish releases everything the connection holds and calls OnClose.
func (l *Loop) finish(c *Conn, reason error) {
	if c.state == stateClosed {
		return
	}
	c.state = stateClosed
	// Out of the table before the fd number can be reused.
	l.conns.clear(c)
	fd := int(c.fd)
	if l.ring != nil {
		l.ringClose(c)
	} else {
		_ = l.p.Delete(fd)
		_ = sysClose(fd)
	}
	l.nconns--
	l.st.Closed++
	l.st.ClosedBy[ReasonOf(reason)]++
	l.unpaused(c)
	if c.flags&flagCounted != 0 {
		l.cfg.Limit.release()
	}
	l.removeConn(c)
	l.releaseIn(c)
	l.releaseOffload(c)
	if c.ext != nil && c.ext.session != nil {
		err := reason
		if err == nil {
			err = ErrClosed
		}
		c.ext.session.shut(err)
	}
	if c.outq().Len() > 0 || c.outq().Pending() {
		l.st.owed(-c.outq().Len())
		if c.flags&flagSendBusy != 0 {
			l.ring.park(c) // the kernel may still read these bytes
		}
		due := c.outq().Reset(l.pool, l.takeDueBuf())
		err := reason
		if err == nil {
			err = ErrClosed
		}
		l.runCompletions(c, due, err)
		l.due = due[:0]
	}
	l.dropIO(c)
	if c.ext != nil && c.ext.dialDone != nil {
		done := c.ext.dialDone
		c.ext.dialDone = nil
		err := reason
		if err == nil {
			err = ErrClosed
		}
		l.callDialDone(c, done, err)
	}
	c.ext = nil
	l.closed(c, reason)
	if l.draining && l.nconns == 0 {
		l.stop = true
	}
	l.checkEmpty()
}
