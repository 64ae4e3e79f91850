//go:build linux && (amd64 || arm64)

package loop

import (
	"errors"
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pinion-net/pinion/internal/buffer"
	"github.com/pinion-net/pinion/internal/uring"
)

// The io_uring backend (docs/adr/0010-io-uring-backend.md). The loop's
// logic is the same as with the poller; what changes is who does the I/O:
//
//   - input arrives in provided buffers through one multishot receive per
//     reading connection and is delivered from the buffer in place, which
//     goes back to the ring as soon as deliver returns;
//   - a connection that must not be read (watermark, offload, user pause,
//     stall) has its receive cancelled and, while open, a one-shot poll for
//     the peer's hang-up armed instead, as the poller's PeerClose interest
//     does; bytes that arrive before the cancel lands are kept in its
//     inbound buffer (stashed) and shown to OnData once it is read again;
//   - owed bytes are written at once with system calls, as the poller's
//     flush does; what a full socket does not take goes in one gathered
//     send through the ring, which waits for room, and leaves the outbound
//     chain when its completion says the kernel took it (one such send per
//     connection at most, and nothing written while it is in flight);
//   - closes are a cancel linked to a close, submitted by the next enter.
//
// Every request carries a uring.Token (fd, the low 24 bits of the
// generation, the operation); a completion whose generation is not its
// connection's current one is stale and only releases what it holds.

// ringIO is one loop's ring and what it tracks across ticks.
type ringIO struct {
	r       *uring.Ring
	cqes    []uring.CQE
	iov     [][]byte
	rearm   []*Conn     // receives ended by ENOBUFS: armed again at the end of the tick
	parked  []parkedOut // outbound chains of closed connections with a send in flight
	closing []bool      // by fd: a close queued through the ring has not completed
	ncloses int         // how many are true in closing
	last    int         // completions the last tick reaped

	// lnClosing holds the listening fds whose close through the ring has
	// not completed: until it has, the socket still takes connections
	// into its queue (the ring's accept holds the file), which its close
	// then resets. afterLn runs once none is left (whenListenersClosed).
	lnClosing []int
	afterLn   []func()

	// releaseAfter is how long the loop waits idle, after receives,
	// before it gives the receive buffers' pages back
	// (Ring.ReleaseBuffers; RingConfig.ReleaseAfter, negative: never).
	releaseAfter time.Duration
}

// parkedOut holds the bytes of a closed connection's send in flight until
// its completion.
type parkedOut struct {
	key uring.Token
	out buffer.Chain
}

// ringExitWait bounds how long exit waits for the ring's queued closes.
const ringExitWait = 2 * time.Second

// Poll events (poll(2)).
const (
	pollOut   = unix.POLLOUT
	pollRDHUP = unix.POLLRDHUP
	pollErr   = unix.POLLERR
	pollHup   = unix.POLLHUP
)

// startIO sets up an IOUring loop's ring on the loop's thread, which it
// locks (the ring's single issuer must stay that thread), and arms the
// accepts of the listeners added before Run.
func (l *Loop) startIO() error {
	if l.cfg.IO != IOUring {
		return nil
	}
	runtime.LockOSThread()
	r, err := uring.New(uring.Config{
		Entries:          l.cfg.Ring.entries(),
		CQEntries:        16 * l.cfg.Ring.entries(),
		BufferCount:      l.cfg.Ring.Buffers,
		BufferSize:       l.cfg.Ring.BufferSize,
		WholeBuffers:     l.cfg.Ring.WholeBuffers,
		MaxIovecs:        ringMaxIov,
		ForceUnavailable: l.cfg.Ring.ForceUnavailable,
	})
	if err != nil {
		return err
	}
	l.ring = &ringIO{r: r, cqes: make([]uring.CQE, ringReap), iov: make([][]byte, 0, ringMaxIov), releaseAfter: l.cfg.Ring.ReleaseAfter}
	l.waker.Store(r)
	for _, ln := range l.listeners {
		l.ringArmAccept(ln)
	}
	return nil
}

// stopIO waits (bounded) for the closes queued through the ring, closes
// what did not complete with close(2), and releases the ring.
func (l *Loop) stopIO() {
	rio := l.ring
	if rio == nil {
		return
	}
	deadline := time.Now().Add(ringExitWait)
	for (rio.ncloses > 0 || len(rio.parked) > 0) && time.Now().Before(deadline) {
		if err := rio.r.SubmitAndWait(10 * time.Millisecond); err != nil {
			break
		}
		n := rio.r.Reap(rio.cqes)
		for _, e := range rio.cqes[:n] {
			l.ringDrained(e)
		}
	}
	l.waker.Store(nil)
	_ = rio.r.Close()
	for fd, open := range rio.closing {
		if open {
			_ = sysClose(fd)
		}
	}
	rio.lnClosing = nil
	rio.runAfterListeners() // their fds are closed now
	rio.parked = nil        // the ring is gone: nothing reads these any more
	l.ring = nil
}

// ringDrained handles a completion after the loop stopped serving: only
// releases.
func (l *Loop) ringDrained(e uring.CQE) {
	rio := l.ring
	switch e.Token.Op() {
	case uring.OpClose:
		rio.closed(e.Token.FD())
	case uring.OpSend:
		l.unpark(e.Token)
	case uring.OpAccept:
		if e.Res >= 0 {
			_ = sysClose(int(e.Res))
		}
	}
	rio.r.Recycle(e)
}

// wait submits what the last tick queued and collects completions, waiting
// up to timeout (negative: no limit) when there are none.
func (rio *ringIO) wait(timeout time.Duration) (int, error) {
	var err error
	switch {
	case timeout != 0 && rio.releaseAfter > 0 && rio.r.BuffersUsed() && (timeout < 0 || timeout > rio.releaseAfter):
		// Blocking after receives: first for releaseAfter, then, if
		// nothing came all that time, release the buffers' pages. A wakeup
		// (a task posted from another goroutine) ends the wait early with
		// no completion to return: that is not idleness. The tick that
		// follows waits again, for the rest of the timeout.
		start := time.Now()
		if err = rio.r.SubmitAndWait(rio.releaseAfter); err != nil {
			return 0, err
		}
		if rio.last = rio.r.Reap(rio.cqes); rio.last == 0 && time.Since(start) >= rio.releaseAfter {
			_ = rio.r.ReleaseBuffers() // advice: on failure the pages stay, nothing else
		}
		return rio.last, nil
	case timeout != 0:
		err = rio.r.SubmitAndWait(timeout)
	case rio.last >= ringBacklog:
		// The last tick was full: completion work is likely queued
		// beyond what one plain enter runs.
		err = rio.r.SubmitBatch(ringBatch)
	default:
		err = rio.r.Submit()
	}
	if err != nil {
		return 0, err
	}
	rio.last = rio.r.Reap(rio.cqes)
	return rio.last, nil
}

func ringToken(c *Conn) uring.Token { return uring.NewToken(int(c.fd), c.gen) }

// ringOwner returns the connection a completion belongs to, or nil when
// it is stale.
func (l *Loop) ringOwner(tok uring.Token) *Conn {
	c := l.conn(tok.FD())
	if c == nil || c.state == stateClosed || uring.NewToken(int(c.fd), c.gen) != tok.Key() {
		return nil
	}
	return c
}

// ringDispatch handles the n completions the tick reaped, in ring order,
// then arms again the receives that ran out of buffers. What a completion
// made the handler write is flushed before the next one.
func (l *Loop) ringDispatch(n int) {
	rio := l.ring
	for i := 0; i < n; {
		k := l.ringRun(i, n)
		l.ringComplete(rio.cqes[i : i+k])
		l.flushDirty()
		i += k
	}
	for i, c := range rio.rearm {
		rio.rearm[i] = nil
		if c.state != stateClosed {
			l.ringSync(c)
		}
	}
	rio.rearm = rio.rearm[:0]
}

// ringRun returns how many completions from the i-th of n on are one
// arrival: receives of one connection with bytes, back to back, up to one
// that ends the receive and at most ReadBufferSize bytes in all. The
// kernel's multishot receive posts what one pass over the socket brought
// a provided buffer at a time, and with incremental consumption a
// receive that fills the rest of one buffer goes on in the next; the
// handler sees such an arrival whole, as one read would give it.
func (l *Loop) ringRun(i, n int) int {
	rio := l.ring
	e := rio.cqes[i]
	if e.Token.Op() != uring.OpRecv || e.Res <= 0 || !e.More() {
		return 1
	}
	total, j := int(e.Res), i+1
	for ; j < n; j++ {
		f := rio.cqes[j]
		if f.Token != e.Token || f.Res <= 0 || total+int(f.Res) > len(l.rbuf) {
			break
		}
		total += int(f.Res)
		if !f.More() {
			j++
			break
		}
	}
	return j - i
}

// ringComplete handles one completion, or a run of receives that are one
// arrival (ringRun).
func (l *Loop) ringComplete(run []uring.CQE) {
	rio := l.ring
	e := run[0]
	tok := e.Token
	switch tok.Op() {
	case uring.OpAccept:
		l.ringAccepted(tok.FD(), e)
		return
	case uring.OpClose:
		rio.closed(tok.FD())
		return
	case uring.OpCancel:
		return
	}
	c := l.ringOwner(tok)
	if c == nil {
		l.st.StaleEvents += uint64(len(run))
		if tok.Op() == uring.OpSend {
			l.unpark(tok)
		}
		for _, e := range run {
			rio.r.Recycle(e)
		}
		return
	}
	switch tok.Op() {
	case uring.OpRecv:
		l.ringReceived(c, run)
	case uring.OpSend:
		l.ringSent(c, e)
	case uring.OpPoll:
		l.ringPolled(c, e)
	}
}

// ringArm arms what a new connection needs: its receive, or the poll that
// says its connect finished.
func (l *Loop) ringArm(c *Conn) error {
	l.ringSync(c)
	if c.state == stateClosed {
		return errors.New("loop: cannot arm the connection's first ring request")
	}
	return nil
}

// ringSync brings c's requests in the ring in line with its state, as
// setInterest does with the poller's interest: a receive while it is read
// (open and not paused, closing to see the peer's FIN, lingering to drain),
// a poll for POLLOUT while connecting and for the hang-up while paused.
func (l *Loop) ringSync(c *Conn) {
	var wantRecv, wantPoll bool
	var events uint32
	switch c.state {
	case stateConnecting:
		wantPoll, events = true, pollOut
	case stateOpen:
		// A connection waiting for its redelivery stays armed: bytes that
		// arrive meanwhile are delivered behind the input it left. Once
		// its FIN was seen, only a full resume arms it: the receive would
		// bring nothing but the FIN again.
		paused := c.flags & pausedMask
		if c.flags&flagFINSeen == 0 {
			paused &^= flagRedeliver
		}
		if paused == 0 {
			wantRecv = true
			if c.flags&flagStashed != 0 && c.flags&flagRedeliver == 0 {
				c.flags |= flagRedeliver
				l.ready = append(l.ready, c)
			}
		} else if c.flags&(flagPeerEOF|flagFINSeen) == 0 {
			wantPoll, events = true, pollRDHUP
		}
	case stateClosing:
		wantRecv = c.flags&flagPeerEOF == 0
	case stateLingering:
		wantRecv = true
	default:
		return
	}
	tok := ringToken(c)
	r := l.ring.r
	var err error
	switch f := c.flags; {
	case wantRecv && f&flagRecvArmed == 0:
		if err = r.RecvMultishot(int(c.fd), tok); err == nil {
			c.flags |= flagRecvArmed
		}
	case !wantRecv && f&(flagRecvArmed|flagRecvCancel) == flagRecvArmed:
		if err = r.CancelToken(tok.With(uring.OpRecv), tok); err == nil {
			c.flags |= flagRecvCancel
		}
	}
	if err == nil {
		switch f := c.flags; {
		case wantPoll && f&flagPollArmed == 0:
			if err = r.PollOnce(int(c.fd), events, tok); err == nil {
				c.flags |= flagPollArmed
			}
		case !wantPoll && f&(flagPollArmed|flagPollCancel) == flagPollArmed:
			if err = r.CancelToken(tok.With(uring.OpPoll), tok); err == nil {
				c.flags |= flagPollCancel
			}
		}
	}
	if err != nil {
		l.closeNow(c, &OpError{Op: "ring submit", Err: err})
	}
}

// ringReceived handles a receive completion, or a run of them that is one
// arrival (ringRun): bytes, the peer's FIN (0 without more to come), or
// the receive's end.
func (l *Loop) ringReceived(c *Conn, run []uring.CQE) {
	e := run[len(run)-1] // the others brought bytes and left the receive armed
	more := e.More()
	if !more {
		c.flags &^= flagRecvArmed | flagRecvCancel
	}
	if e.Res > 0 {
		var data []byte
		if len(run) == 1 {
			data = l.ring.r.Bytes(e)
		} else {
			data = l.ring.r.Join(run, l.rbuf)
		}
		l.st.BytesIn += uint64(len(data))
		l.ringInput(c, data)
		for _, e := range run {
			l.ring.r.Recycle(e)
		}
		if !more && c.state != stateClosed {
			l.ringSync(c)
		}
		return
	}
	l.ring.r.Recycle(e)
	if e.Res == 0 {
		l.ringEOF(c)
		return
	}
	switch err := e.Err(); err {
	case unix.ENOBUFS:
		// The kernel keeps the bytes; buffers come back during this tick.
		l.st.NoBuffers++
		l.ring.rearm = append(l.ring.rearm, c)
	case unix.ECANCELED, unix.EINTR, unix.EAGAIN:
		l.ringSync(c) // armed again if it is still wanted
	default:
		if c.state == stateLingering {
			l.finish(c, c.closeReason())
			return
		}
		// The poller reports a reset as an error event, closed with the
		// socket's error as op "socket": the same here.
		l.closeNow(c, &OpError{Op: "socket", Err: err})
	}
}

// ringInput takes bytes received for c: delivered when c is read, kept
// for later when it is paused (the cancel of its receive had not landed
// yet) or still has such bytes, dropped when it is closing or lingering.
func (l *Loop) ringInput(c *Conn, data []byte) {
	if c.state != stateOpen {
		return
	}
	c.lastActive = l.now
	if c.flags&flagStashed == 0 && c.flags&(pausedMask&^flagRedeliver) == 0 {
		l.deliver(c, data)
		return
	}
	// Not checked against MaxInbound: these bytes were sent before the
	// pause reached the kernel, so they are bounded by the ring's buffers
	// (one tick of input); unstash shows them to the handler in pieces of
	// ReadBufferSize, as reads would, and deliver checks the bound.
	x := c.extra()
	if x.stash == nil {
		x.stash = l.inPool.Get()
		x.stash.B = x.stash.B[:0]
		x.stashOff = 0
	}
	x.stash.B = append(x.stash.B, data...)
	c.flags |= flagStashed
}

// unstash delivers the input kept while c was paused, ReadBufferSize at a
// time, until it is gone or c pauses again; the tick's redeliver calls it.
func (l *Loop) unstash(c *Conn) {
	x := c.ext
	delivered := false
	for x != nil && x.stash != nil && c.state == stateOpen && c.flags&(pausedMask&^flagRedeliver) == 0 {
		rest := x.stash.B[x.stashOff:]
		if len(rest) == 0 {
			break
		}
		chunk := rest[:min(len(rest), l.cfg.ReadBufferSize)]
		x.stashOff += len(chunk)
		l.deliver(c, chunk) // clears flagRedeliver; an unstall meanwhile sets it again
		delivered = true
		l.flushDirty()
		x = c.ext
	}
	if !delivered {
		c.flags &^= flagRedeliver
	}
	if x != nil && x.stash != nil && (x.stashOff == len(x.stash.B) || c.state != stateOpen) {
		l.inPool.Put(x.stash)
		x.stash, x.stashOff = nil, 0
		c.flags &^= flagStashed
	}
	if c.state != stateClosed {
		l.setInterest(c)
	}
}

// ringEOF handles the peer's FIN as the poller's read of 0 or hang-up.
func (l *Loop) ringEOF(c *Conn) {
	switch c.state {
	case stateOpen:
		switch {
		case c.flags&pausedMask == 0:
			l.onPeerEOF(c)
		case c.flags&flagFINSeen == 0:
			l.ringPausedFIN(c)
		}
		// Else the FIN is known: the receive armed at the resume brings
		// it again once the input before it was served.
	case stateClosing:
		c.flags |= flagPeerEOF
	case stateLingering:
		l.finish(c, c.closeReason())
	}
}

// ringPausedFIN handles the peer's FIN seen while c is not read, as
// pausedHangUp does for the poller, except that a FIN after our own
// (CloseWrite) does not close c at once: the input before it, kept in the
// socket or the stash, is still served once c resumes, and the FIN then
// ends it as onPeerEOF says.
func (l *Loop) ringPausedFIN(c *Conn) {
	if c.flags&flagAbandon != 0 {
		l.discardInput(c)
		l.onPeerEOF(c)
		return
	}
	c.flags |= flagFINSeen
	l.setInterest(c)
}

// ringPolled handles a poll completion: a connect finished, or a paused
// connection's peer hung up or reset.
func (l *Loop) ringPolled(c *Conn, e uring.CQE) {
	cancelled := c.flags&flagPollCancel != 0
	c.flags &^= flagPollArmed | flagPollCancel
	if e.Res < 0 || cancelled {
		// Cancelled (resumed, or the FIN was seen by the receive): what
		// it reports, if anything, is known or will be received.
		l.ringSync(c)
		return
	}
	ev := uint32(e.Res)
	switch {
	case c.state == stateConnecting:
		l.onConnected(c)
	case c.state != stateOpen:
	case ev&pollErr != 0:
		l.onError(c)
	case ev&(pollRDHUP|pollHup) != 0 && c.flags&pausedMask != 0 && c.flags&(flagPeerEOF|flagFINSeen) == 0:
		l.ringPausedFIN(c)
	}
	if c.state != stateClosed {
		l.ringSync(c)
	}
}

// ringFlush hands owed bytes to the kernel when no send is in flight:
// first with system calls from the tick, as the poller's flush does, and
// what the socket does not take at once (it is full) in one gathered send
// through the ring, which waits for room. It then fires the completions
// whose bytes the kernel took, and settles.
//
// Writing at once costs one system call where a ring send costs a
// submission entry, a completion and its dispatch; with a full socket the
// ring's send waits for room, so bytes never go out of order: there is at
// most one send in flight and nothing is written while it is.
func (l *Loop) ringFlush(c *Conn) {
	if c.flags&flagSendBusy == 0 && c.outq().Len() > 0 {
		if !l.writeOut(c) {
			return
		}
		if c.outq().Len() > 0 && !l.ringSend(c) {
			return
		}
	}
	l.wrote(c)
}

// ringSend queues one gathered send of c's owed bytes. It returns false
// when the ring refused it, which closes c.
func (l *Loop) ringSend(c *Conn) bool {
	rio := l.ring
	iov := c.outq().Segments(rio.iov[:0], ringMaxIov, 0)
	tok := ringToken(c)
	var err error
	if len(iov) == 1 {
		err = rio.r.Send(int(c.fd), iov[0], tok)
	} else {
		err = rio.r.Sendmsg(int(c.fd), iov, tok)
	}
	clear(iov)
	l.st.WriteCalls++
	if err != nil {
		l.closeNow(c, &OpError{Op: "ring submit", Err: err})
		return false
	}
	c.flags |= flagSendBusy
	return true
}

// ringSent handles a send completion: the bytes it took leave the chain,
// and the rest (a short send, or bytes written meanwhile) goes next.
func (l *Loop) ringSent(c *Conn, e uring.CQE) {
	c.flags &^= flagSendBusy
	if e.Res < 0 {
		switch err := e.Err(); err {
		case unix.EAGAIN, unix.EINTR:
		default:
			l.closeNow(c, &OpError{Op: "write", Err: err})
			return
		}
	} else if n := int(e.Res); n > 0 {
		c.outq().Discard(l.pool, n)
		l.st.owed(-n)
		l.st.BytesOut += uint64(n)
		c.lastActive = l.now
	}
	l.ringFlush(c)
}

// ringClose queues c's release through the ring: a cancel of its requests
// linked to the close of its fd. The fd number is not reused before that
// close completes.
func (l *Loop) ringClose(c *Conn) {
	rio := l.ring
	fd := int(c.fd)
	if err := rio.r.CancelAndCloseFD(fd, ringToken(c)); err != nil {
		_ = sysClose(fd)
		return
	}
	rio.queued(fd)
}

func (rio *ringIO) queued(fd int) {
	for fd >= len(rio.closing) {
		rio.closing = append(rio.closing, make([]bool, max(64, len(rio.closing)))...)
	}
	rio.closing[fd] = true
	rio.ncloses++
}

func (rio *ringIO) closed(fd int) {
	if fd >= 0 && fd < len(rio.closing) && rio.closing[fd] {
		rio.closing[fd] = false
		rio.ncloses--
	}
	if len(rio.lnClosing) > 0 {
		rio.listenerClosed(fd)
	}
}

// park keeps the bytes of c's send in flight until its completion.
func (rio *ringIO) park(c *Conn) {
	rio.parked = append(rio.parked, parkedOut{key: ringToken(c), out: c.outq().Detach()})
}

// unpark releases the parked bytes of the send that completed with tok.
func (l *Loop) unpark(tok uring.Token) {
	rio := l.ring
	key := tok.Key()
	for i := range rio.parked {
		if rio.parked[i].key == key {
			rio.parked[i].out.Reset(l.pool, nil) // callbacks went with the connection
			last := len(rio.parked) - 1
			rio.parked[i] = rio.parked[last]
			rio.parked[last] = parkedOut{}
			rio.parked = rio.parked[:last]
			return
		}
	}
}

// ringArmAccept arms the multishot accept of ln.
func (l *Loop) ringArmAccept(ln *listener) {
	if ln.armed || ln.paused {
		return
	}
	if err := l.ring.r.AcceptMultishot(ln.fd, uring.NewToken(ln.fd, 0)); err != nil {
		l.log.Error("cannot arm accept", "addr", ln.addr, "err", err)
		return
	}
	ln.armed = true
}

// ringAccepted handles an accept completion: a new fd, or the end of the
// multishot accept (EMFILE and its kind pause the listener with the same
// backoff as the poller's path).
func (l *Loop) ringAccepted(lfd int, e uring.CQE) {
	ln := l.listenerOf(lfd)
	if ln == nil {
		if e.Res >= 0 {
			_ = sysClose(int(e.Res)) // accepted before the listener's close landed
		}
		return
	}
	if !e.More() {
		ln.armed = false
	}
	if e.Res >= 0 {
		if l.stop || l.draining {
			_ = sysClose(int(e.Res))
			return
		}
		l.accepted(ln, int(e.Res))
	} else if err := e.Err(); err != unix.ECANCELED { // cancelled: the listener closes
		l.acceptFailed(ln, err)
	}
	if !ln.armed && !ln.paused {
		l.ringArmAccept(ln)
	}
}

// ringStopAccept cancels ln's multishot accept, if armed, for a pause
// (pauseListener arms it again).
func (l *Loop) ringStopAccept(ln *listener) {
	if ln.armed {
		tok := uring.NewToken(ln.fd, 0)
		_ = l.ring.r.CancelToken(tok.With(uring.OpAccept), tok)
	}
}

// ringCloseListeners closes the listeners through the ring: the multishot
// accept holds the socket until it is cancelled, so a plain close(2) would
// leave it accepting.
func (l *Loop) ringCloseListeners() {
	rio := l.ring
	for _, ln := range l.listeners {
		if err := rio.r.CancelAndCloseFD(ln.fd, uring.NewToken(ln.fd, 0)); err != nil {
			_ = sysClose(ln.fd)
			continue
		}
		rio.queued(ln.fd)
		rio.lnClosing = append(rio.lnClosing, ln.fd)
	}
	l.listeners = nil
}

// whenListenersClosed runs fn once the listening sockets this loop closed
// have stopped listening: at once with epoll, whose close(2) does that,
// and where no close through the ring is pending; else when the last one
// completes (or the ring is torn down).
func (l *Loop) whenListenersClosed(fn func()) {
	if rio := l.ring; rio != nil && len(rio.lnClosing) > 0 {
		rio.afterLn = append(rio.afterLn, fn)
		return
	}
	fn()
}

// listenerClosed notes the completed close of fd if it is a listener's,
// and runs what waited for the last one.
func (rio *ringIO) listenerClosed(fd int) {
	for i, f := range rio.lnClosing {
		if f == fd {
			rio.lnClosing = append(rio.lnClosing[:i], rio.lnClosing[i+1:]...)
			if len(rio.lnClosing) == 0 {
				rio.runAfterListeners()
			}
			return
		}
	}
}

func (rio *ringIO) runAfterListeners() {
	fns := rio.afterLn
	rio.afterLn = nil
	for _, fn := range fns {
		fn()
	}
}
