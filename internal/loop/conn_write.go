package loop

import (
	"github.com/pinion-net/pinion/internal/buffer"
	"github.com/pinion-net/pinion/poller"
)

// Write queues a copy of p to be sent and returns len(p). The bytes are
// written to the socket when the current callback returns (one system call
// for all the writes of a callback), or later when the socket is writable.
// Write fails with ErrClosed once c is closing, with ErrWriteClosed after
// CloseWrite, and with ErrOutboundOverflow — closing c — when the owed bytes
// would pass Config.WriteMax.
func (c *Conn) Write(p []byte) (int, error) {
	if err := c.writable(); err != nil {
		return 0, err
	}
	if err := c.loop.queueOut(c, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// queueOut queues a copy of p on c whatever its state short of closed
// (owed replies still go out while it closes), enforcing the hard cap.
func (l *Loop) queueOut(c *Conn, p []byte) error {
	if c.outq().Len()+len(p) > l.cfg.WriteMax {
		l.abort(c, ErrOutboundOverflow)
		return ErrOutboundOverflow
	}
	if len(p) > 0 {
		l.outOf(c).Write(l.pool, p)
		l.st.owed(len(p))
		l.markDirty(c)
		if c.outq().Len() > l.cfg.WriteHigh {
			c.flags |= flagWentHigh
		}
	}
	return nil
}

// OutboundBuffered returns how many owed bytes are queued and not yet handed
// to the kernel.
func (c *Conn) OutboundBuffered() int { return c.outq().Len() }

func (c *Conn) writable() error {
	switch {
	case c.state != stateOpen && c.state != stateConnecting:
		return ErrClosed
	case c.flags&flagWriteClosed != 0:
		return ErrWriteClosed
	}
	return nil
}

// CloseWrite sends FIN once the owed bytes are flushed, and keeps reading:
// the connection closes when the peer closes its side too.
func (c *Conn) CloseWrite() error {
	if c.state != stateOpen {
		return ErrClosed
	}
	c.flags |= flagWriteClosed
	c.loop.markDirty(c)
	return nil
}

func (l *Loop) markDirty(c *Conn) {
	if c.flags&flagDirty == 0 {
		c.flags |= flagDirty
		l.dirty = append(l.dirty, c)
	}
}

// flushDirty flushes every connection written to since the last call.
func (l *Loop) flushDirty() {
	for i := 0; i < len(l.dirty); i++ { // flush may append
		c := l.dirty[i]
		l.dirty[i] = nil
		c.flags &^= flagDirty
		// A connecting socket is flushed once connected (onConnected):
		// writing now would report a failed connect as a write error.
		if c.state != stateClosed && c.state != stateConnecting && c.gen != 0 {
			l.flush(c)
		}
	}
	l.dirty = l.dirty[:0]
}

// flush writes owed bytes until the kernel takes no more, fires due
// completions, and then settles the connection's interest, watermarks and
// close progress.
func (l *Loop) flush(c *Conn) {
	if l.ring != nil {
		l.ringFlush(c)
		return
	}
	if !l.writeOut(c) {
		return
	}
	l.wrote(c)
}

// wrote follows a flush on either backend: it fires the completions whose
// bytes the kernel took, gives back the connection's I/O state if it holds
// no bytes, and settles interest, watermarks and close progress.
func (l *Loop) wrote(c *Conn) {
	if c.outq().Pending() {
		l.fireDue(c)
		if c.state == stateClosed {
			return
		}
	}
	l.dropIO(c)
	l.settle(c)
}

// writeOut writes owed bytes with system calls until the kernel takes no
// more (a short write says so without an extra EAGAIN call). It returns
// false when a write error closed c.
func (l *Loop) writeOut(c *Conn) bool {
	for c.outq().Len() > 0 {
		iov := c.outq().Segments(l.iov[:0], maxIov, 0)
		want := 0
		for _, b := range iov {
			want += len(b)
		}
		var n int
		var err error
		if len(iov) == 1 {
			n, err = sysWrite(int(c.fd), iov[0])
		} else {
			n, err = l.sys.writev(int(c.fd), iov)
		}
		clear(iov)
		l.st.WriteCalls++
		if n > 0 {
			c.outq().Discard(l.pool, n)
			l.st.owed(-n)
			l.st.BytesOut += uint64(n)
			c.lastActive = l.now
		}
		if err != nil {
			if isAgain(err) {
				break
			}
			if isInterrupted(err) {
				continue
			}
			l.closeNow(c, &OpError{Op: "write", Err: err})
			return false
		}
		if n < want {
			break
		}
	}
	return true
}

// ioOf returns c's connIO, taking one from the loop's free ones when c
// has none.
func (l *Loop) ioOf(c *Conn) *connIO {
	if c.io == nil {
		if n := len(l.ios); n > 0 {
			c.io = l.ios[n-1]
			l.ios[n-1] = nil
			l.ios = l.ios[:n-1]
		} else {
			c.io = new(connIO)
		}
	}
	return c.io
}

// outOf returns c's outbound chain, lending c a connIO if needed.
func (l *Loop) outOf(c *Conn) *buffer.Chain { return &l.ioOf(c).out }

// dropIO gives c's connIO back to the loop once it holds no input, no
// owed bytes and no completions, so that an idle connection holds none.
// The loop keeps up to Config.MaxFreeIOs free ones (64 bytes each): as
// many connections may hold bytes at once without one allocated per
// write.
func (l *Loop) dropIO(c *Conn) {
	if io := c.io; io != nil && io.in == nil && io.out.Len() == 0 && !io.out.Pending() {
		c.io = nil
		if len(l.ios) < l.cfg.MaxFreeIOs {
			l.ios = append(l.ios, io)
		}
	}
}

// settle brings the connection's poller interest, read pause and close
// progress in line with its owed bytes.
func (l *Loop) settle(c *Conn) {
	owed := c.outq().Len()
	switch {
	case c.flags&(flagReadPaused|flagReadOwing) == 0 && owed > l.cfg.WriteHigh:
		c.flags |= flagReadPaused
		l.st.ReadPauses++
		l.st.ReadPaused++
	case c.flags&flagReadPaused != 0 && owed <= l.cfg.WriteLow:
		c.flags &^= flagReadPaused
		l.st.ReadPaused--
	}
	drained := c.flags&flagWentHigh != 0 && owed <= l.cfg.WriteLow
	if drained {
		c.flags &^= flagWentHigh
	}
	l.unstall(c)
	if owed == 0 {
		switch {
		case c.state == stateClosing && !c.OffloadBusy():
			l.startLinger(c, c.closeReason())
			return
		case c.flags&(flagWriteClosed|flagShutWR) == flagWriteClosed:
			c.flags |= flagShutWR
			if err := sysShutdownWrite(int(c.fd)); err != nil {
				l.closeNow(c, &OpError{Op: "shutdown", Err: err})
				return
			}
			if c.flags&flagPeerEOF != 0 {
				l.finish(c, nil)
				return
			}
		}
	} else if l.cfg.WriteTimeout > 0 {
		l.armConn(c, c.lastActive+int64(l.cfg.WriteTimeout))
	}
	l.setInterest(c)
	if drained && c.state == stateOpen && l.hooks.drained != nil {
		l.callDrained(c)
	}
}

// setInterest asks the poller for exactly what the connection's state needs.
func (l *Loop) setInterest(c *Conn) {
	if l.ring != nil {
		l.ringSync(c)
		return
	}
	var want connFlags
	switch c.state {
	case stateConnecting:
		want = flagWantWrite
	case stateOpen:
		if c.flags&pausedMask == 0 {
			want |= flagWantRead
		} else if c.flags&(flagPeerEOF|flagFINSeen) == 0 {
			want |= flagWantHangUp // paused, still watching the peer
		}
		if c.outq().Len() > 0 {
			want |= flagWantWrite
		}
	case stateClosing:
		if c.outq().Len() > 0 {
			want = flagWantWrite
		}
	case stateLingering:
		want = flagWantRead
	default:
		return
	}
	have := c.flags & (flagWantRead | flagWantWrite | flagWantHangUp)
	if want == have {
		return
	}
	if c.flags&flagDetached != 0 {
		l.attach(c, want)
		return
	}
	var in poller.Interest
	if want&flagWantRead != 0 {
		in |= poller.Read
	}
	if want&flagWantWrite != 0 {
		in |= poller.Write
	}
	if want&flagWantHangUp != 0 {
		in |= poller.PeerClose
	}
	if err := l.p.Modify(int(c.fd), c.token(), in); err != nil {
		l.closeNow(c, &OpError{Op: "poller modify", Err: err})
		return
	}
	c.flags = c.flags&^(flagWantRead|flagWantWrite|flagWantHangUp) | want
}

// attach registers a connection that pausedHangUp took out of the poller
// again, once its state wants an event.
func (l *Loop) attach(c *Conn, want connFlags) {
	var in poller.Interest
	if want&flagWantRead != 0 {
		in |= poller.Read
	}
	if want&flagWantWrite != 0 {
		in |= poller.Write
	}
	if err := l.p.Add(int(c.fd), c.token(), in); err != nil {
		l.closeNow(c, &OpError{Op: "poller add", Err: err})
		return
	}
	c.flags = c.flags&^(flagDetached|flagWantRead|flagWantWrite|flagWantHangUp) | want&^flagWantHangUp
}

// fireDue runs the completions whose bytes reached the kernel.
func (l *Loop) fireDue(c *Conn) {
	due := c.outq().TakeDue(l.takeDueBuf())
	l.runCompletions(c, due, nil)
	l.due = due[:0]
}

// takeDueBuf lends the loop's completion slice; a completion that closes
// another connection while the slice is lent gets a fresh one.
func (l *Loop) takeDueBuf() []func(error) {
	b := l.due
	l.due = nil
	return b[:0]
}

// runCompletions calls each done with err; a panic closes c.
func (l *Loop) runCompletions(c *Conn, due []func(error), err error) {
	for i, done := range due {
		due[i] = nil
		l.callDone(c, done, err)
	}
}

func (l *Loop) callDone(c *Conn, done func(error), err error) {
	defer l.leave(c, "write completion", l.enter())
	done(err)
}

// PauseReading stops reading c until ResumeReading. Input already buffered
// stays buffered; a peer's FIN is noticed at once only under
// SetAbandonOnFIN, otherwise once reading resumes (a reset closes c at
// once).
func (c *Conn) PauseReading() {
	if c.flags&flagUserPaused == 0 {
		c.flags |= flagUserPaused
		c.loop.setInterest(c)
	}
}

// ResumeReading undoes PauseReading.
func (c *Conn) ResumeReading() {
	if c.flags&flagUserPaused != 0 {
		c.flags &^= flagUserPaused
		c.loop.setInterest(c)
	}
}
