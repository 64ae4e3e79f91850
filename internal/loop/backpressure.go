package loop

// Processing backpressure.
//
// Reading stops above WriteHigh owed bytes, but that alone cannot bound a
// connection whose requests have already arrived: one read of pipelined
// requests, each with a large reply, would have the handler queue every
// reply at once. So the handler takes part. Between requests it asks
// Saturated; once that is true it stops consuming and returns, leaving the
// rest of the input buffered. The loop then marks the connection stalled:
// it is not read (no new input joins the stalled input) and, once the owed
// bytes fall to WriteLow and the connection's offload queue has room, OnData
// is called again with the input it left and no new bytes. So what a
// connection holds is bounded by configuration: MaxInbound of input, and
// WriteHigh plus one callback's replies of output, whatever a client
// pipelines.
//
// While stalled or paused for any other reason, the connection keeps
// PeerClose interest, so a hang-up of the peer is still noticed; see
// pausedHangUp.
//
//	open, reading ──OnData returns with input left, Saturated──▶ stalled (not read)
//	      ▲                                                          │ owed ≤ WriteLow, offload room
//	      └──── OnData(input left, no new bytes), from the tick ◀────┘

// Saturated reports whether c owes more than Config.WriteHigh bytes, or has
// as many offloaded tasks waiting as Config.OffloadPending allows. A handler
// that produces output checks it between requests and, when it is true,
// stops consuming input and returns: the loop stops reading c and calls
// OnData again, with the input left and no new bytes, once the owed bytes
// fall to Config.WriteLow and the tasks have room. Loop-only.
func (c *Conn) Saturated() bool {
	return c.outq().Len() > c.loop.cfg.WriteHigh || c.flags&flagOffPaused != 0
}

// SetAbandonOnFIN says what the peer's FIN means for c. By default (false)
// it only ends the input: what was read before it is still delivered, tasks
// run, replies are written, then c closes. With true, the FIN means the
// client gave up (as HTTP servers such as nginx take it): input not yet
// delivered is dropped, queued offload tasks never start (counted as
// OffloadDropped), a running one sees its context cancelled and its reply
// is dropped; replies already written still go out, then c closes with
// io.EOF. A paused or stalled connection notices the FIN at once either
// way; with false it is acted on once reading resumes. Loop-only.
func (c *Conn) SetAbandonOnFIN(on bool) {
	if on {
		c.flags |= flagAbandon
	} else {
		c.flags &^= flagAbandon
	}
}

// SetOwedPausesRead says whether owing more than Config.WriteHigh stops
// reading c until the owed bytes fall to Config.WriteLow. It is on by
// default for an accepted connection, whose output answers its input: a
// peer that sends without reading the answers is not read either. It is
// off by default for a dialed one, a client, whose output is its own:
// pausing its reads would stop it taking the replies of a server that
// itself stops reading while its replies are not taken, and the pair
// would deadlock. A handler whose output on an accepted c comes from
// elsewhere, a proxy writing what the other side of a pair read, turns it
// off: the two directions then move independently, as over a direct
// connection, and the handler paces the producer itself (Saturated, then
// OnDrained). Loop-only.
func (c *Conn) SetOwedPausesRead(on bool) {
	if on {
		c.flags &^= flagReadOwing // from the next flush on (settle)
		return
	}
	c.flags |= flagReadOwing
	if c.flags&flagReadPaused != 0 {
		c.flags &^= flagReadPaused
		c.loop.st.ReadPaused--
		c.loop.setInterest(c)
	}
}

// stallIfSaturated runs after OnData left rest bytes of input: a saturated
// connection stops being read until unstall. was holds the connection's
// stall flags before OnData; the poller interest is touched only when they
// changed, so the common path costs no system call.
func (l *Loop) stallIfSaturated(c *Conn, rest int, was connFlags) {
	switch {
	case rest == 0 || !c.Saturated():
		c.flags &^= flagStalled
	case c.flags&flagStalled == 0:
		c.flags |= flagStalled
		l.st.Stalls++
	}
	if c.flags&(flagStalled|flagRedeliver) != was {
		l.setInterest(c)
	}
}

// unstall queues a stalled connection for delivery once it has room again:
// owed bytes at WriteLow or under, and no offload pause. settle and offNext
// call it whenever either may have changed. Until that delivery the
// connection stays unread (flagRedeliver is a pause reason): new input, or
// the peer's FIN, must not overtake the input it left.
func (l *Loop) unstall(c *Conn) {
	if c.flags&flagStalled == 0 || c.state != stateOpen ||
		c.outq().Len() > l.cfg.WriteLow || c.flags&flagOffPaused != 0 {
		return
	}
	c.flags = c.flags&^flagStalled | flagRedeliver
	l.ready = append(l.ready, c)
}

// redeliver calls OnData again for the connections unstalled since the last
// call, with the input they left. Connections unstalled meanwhile wait for
// the next call, so one client cannot keep the loop here. It reports
// whether it delivered anything.
func (l *Loop) redeliver() bool {
	n := len(l.ready)
	if n == 0 {
		return false
	}
	for i := range n {
		c := l.ready[i]
		l.ready[i] = nil
		if c.flags&flagRedeliver == 0 || c.state != stateOpen {
			continue // delivered meanwhile (Wake), or closed
		}
		if c.flags&flagStashed != 0 && c.flags&(pausedMask&^flagRedeliver) == 0 {
			l.unstash(c) // io_uring: input received while paused
		} else if c.flags&(pausedMask&^flagRedeliver) == 0 && c.Buffered() > 0 {
			l.deliver(c, nil) // clears flagRedeliver and restores the interest
		} else {
			c.flags &^= flagRedeliver
			l.setInterest(c)
		}
		l.flushDirty()
	}
	l.ready = append(l.ready[:0], l.ready[n:]...)
	return true
}

// pausedHangUp handles a hang-up reported for an open connection that is
// not being read (PeerClose interest). A reset comes as an error event and
// closes before this. What is left is the peer's FIN, or a full hang-up.
func (l *Loop) pausedHangUp(c *Conn) {
	switch {
	case c.flags&flagShutWR != 0 && c.flags&flagAbandon == 0:
		// Our FIN went out (CloseWrite) and the peer's came: both
		// directions are shut, and epoll reports the hang-up on every
		// poll, whatever the interest, for as long as the descriptor is
		// registered. The bytes the peer sent before its FIN are still
		// the handler's (a proxy passes them on once the other side
		// drains), so the connection leaves the poller until it is read
		// again (setInterest adds it back); then it reads them, and its
		// end of file closes it.
		c.flags |= flagFINSeen | flagDetached
		c.flags &^= flagWantRead | flagWantWrite | flagWantHangUp
		if err := l.p.Delete(int(c.fd)); err != nil {
			l.closeNow(c, &OpError{Op: "poller delete", Err: err})
		}
	case c.flags&(flagShutWR|flagFINSeen) != 0:
		// A full hang-up with PeerClose off, or our FIN out on a
		// connection abandoning its work: nothing more is wanted.
		l.closeNow(c, &OpError{Op: "read", Err: errHangUp})
	case c.flags&flagAbandon != 0:
		l.discardInput(c)
		l.onPeerEOF(c)
	default:
		// The bytes before the FIN are still to be read and served once
		// the pause ends; stop asking for what is already known.
		c.flags |= flagFINSeen
		l.setInterest(c)
	}
}

// discardInput reads and drops what the kernel holds for c, up to the
// peer's FIN (already received, so the amount is bounded by the socket's
// receive buffer). Closing with unread input would make the kernel answer
// with a reset instead of delivering the replies still owed.
func (l *Loop) discardInput(c *Conn) {
	for {
		n, err := sysRead(int(c.fd), l.rbuf)
		switch {
		case n > 0:
			l.st.BytesIn += uint64(n)
			continue
		case err != nil && isInterrupted(err):
			continue
		}
		return
	}
}

// abandonWork drops what a connection whose client gave up still has to
// do: its unread input, its queued tasks (counted as dropped), and the
// running one, whose context is cancelled and whose reply will be dropped
// as late.
func (l *Loop) abandonWork(c *Conn) {
	l.releaseIn(c)
	c.flags &^= flagStalled
	if o := c.off(); o != nil {
		l.releaseOffload(c)
		o.busy = false
	}
}
