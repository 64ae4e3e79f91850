package loop

import (
	"net"
	"time"

	"github.com/pinion-net/pinion/internal/sock"
	"github.com/pinion-net/pinion/poller"
)

// listener is a listening socket registered with this loop. Its events carry
// generation 0, which no connection uses.
type listener struct {
	fd      int
	addr    net.Addr
	paused  bool
	armed   bool // io_uring: a multishot accept is armed
	backoff time.Duration
}

// AddListener registers a listening socket with the loop, which then owns
// it. With pick set (acceptor mode), accepted connections are handed to
// the loop pick returns; otherwise they stay here. Call it before Run.
func (l *Loop) AddListener(fd int, addr net.Addr, pick func() *Loop) error {
	if l.cfg.IO != IOUring { // the ring arms its accept when Run starts
		if err := l.p.Add(fd, poller.NewToken(fd, 0), poller.Read); err != nil {
			return err
		}
	}
	l.listeners = append(l.listeners, &listener{fd: fd, addr: addr})
	if pick != nil {
		l.pick = pick
	}
	return nil
}

func (l *Loop) listenerOf(fd int) *listener {
	for _, ln := range l.listeners {
		if ln.fd == fd {
			return ln
		}
	}
	return nil
}

// onListener accepts up to the accept budget of connections.
func (l *Loop) onListener(fd int) {
	ln := l.listenerOf(fd)
	if ln == nil || ln.paused {
		return
	}
	for range l.cfg.AcceptBudget {
		nfd, err := sock.Accept(fd)
		switch {
		case err == nil:
			l.accepted(ln, nfd)
		case isInterrupted(err), isAbortedAccept(err):
			// The next one may be there.
		default:
			l.acceptFailed(ln, err) // EAGAIN: none is left
			return
		}
	}
}

// acceptFailed handles an accept that failed with err, on either backend.
// Lacking descriptors or memory (EMFILE and its kind) pauses the listener,
// with backoff, and counts AcceptPauses; any other error but a passing one
// (EAGAIN, EINTR, a connection aborted before it was accepted) is logged,
// counted in AcceptErrors, and pauses the listener too.
func (l *Loop) acceptFailed(ln *listener, err error) {
	switch {
	case isAgain(err), isInterrupted(err), isAbortedAccept(err):
		return
	case isOutOfFDs(err):
		l.st.AcceptPauses++
	default:
		l.st.AcceptErrors++
		l.log.Error("accept failed; pausing the listener", "addr", ln.addr, "err", err)
	}
	l.pauseListener(ln, err)
}

// accepted takes one accepted fd: counted against the limit, then adopted
// here or handed to the loop pick chooses.
func (l *Loop) accepted(ln *listener, nfd int) {
	ln.backoff = 0
	l.st.Accepted++
	if !l.cfg.Limit.acquire() {
		l.st.Rejected++
		_ = sysClose(nfd)
		return
	}
	target := l
	if l.pick != nil {
		target = l.pick()
	}
	if target == l {
		l.adopt(nfd)
	} else if target.post(task{kind: taskAdopt, fd: nfd}) != nil {
		_ = sysClose(nfd)
		l.cfg.Limit.release()
	}
}

// pauseListener stops accepting on a listener that hit EMFILE/ENFILE and
// accepts again after a backoff that doubles from AcceptBackoffMin up to
// AcceptBackoffMax: never a spin, never an exit. On epoll the listener
// leaves the poller meanwhile; on io_uring its multishot accept is
// cancelled, and armed again after the backoff.
func (l *Loop) pauseListener(ln *listener, cause error) {
	ln.backoff = min(max(2*ln.backoff, l.cfg.AcceptBackoffMin), l.cfg.AcceptBackoffMax)
	if l.ring != nil {
		l.ringStopAccept(ln)
	} else if err := l.p.Modify(ln.fd, poller.NewToken(ln.fd, 0), 0); err != nil {
		l.log.Error("cannot pause listener", "addr", ln.addr, "err", err)
		return
	}
	ln.paused = true
	l.log.Warn("accept paused", "addr", ln.addr, "err", cause, "retry_in", ln.backoff)
	l.Schedule(ln.backoff, func() {
		if !ln.paused || l.listenerOf(ln.fd) != ln {
			return
		}
		if l.ring != nil {
			ln.paused = false
			l.ringArmAccept(ln)
			return
		}
		if err := l.p.Modify(ln.fd, poller.NewToken(ln.fd, 0), poller.Read); err != nil {
			l.log.Error("cannot resume listener", "addr", ln.addr, "err", err)
			return
		}
		ln.paused = false
	})
}

func (l *Loop) closeListeners() {
	if l.ring != nil {
		l.ringCloseListeners()
		return
	}
	for _, ln := range l.listeners {
		_ = l.p.Delete(ln.fd)
		_ = sysClose(ln.fd)
	}
	l.listeners = nil
}

// adopt makes an accepted fd a connection of this loop. The fd holds a slot
// of Config.Limit.
func (l *Loop) adopt(fd int) {
	if l.stop || l.draining {
		_ = sysClose(fd)
		l.cfg.Limit.release()
		return
	}
	if l.cfg.NoDelay {
		_ = sock.SetNoDelay(fd, true)
	}
	c, err := l.register(fd, stateOpen, poller.Read)
	if err != nil {
		_ = sysClose(fd)
		l.cfg.Limit.release()
		l.log.Error("cannot register connection", "err", err)
		return
	}
	c.flags |= flagCounted
	if l.cfg.IdleTimeout > 0 {
		l.armConn(c, l.now+int64(l.cfg.IdleTimeout))
	}
	l.callOpen(c)
	l.flushDirty()
}

// register creates the Conn for fd and adds it to the poller.
func (l *Loop) register(fd int, state connState, in poller.Interest) (*Conn, error) {
	c := &Conn{loop: l, fd: int32(fd), gen: l.newGen(), state: state, lastActive: l.now}
	if l.ring != nil {
		// The receive (or the connect's poll) is armed below, once c is
		// in the table: its completions come at the next tick's enter.
	} else if err := l.p.Add(fd, c.token(), in); err != nil {
		return nil, err
	}
	if l.ring == nil && in&poller.Read != 0 {
		c.flags |= flagWantRead
	}
	if l.ring == nil && in&poller.Write != 0 {
		c.flags |= flagWantWrite
	}
	l.conns.set(c)
	l.nconns++
	l.st.Opened++
	if l.ring != nil {
		if err := l.ringArm(c); err != nil {
			l.conns.clear(c)
			l.nconns--
			l.st.Opened--
			return nil, err
		}
	}
	return c, nil
}
