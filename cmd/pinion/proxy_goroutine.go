package main

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// relay is -proto proxy on the goroutine model: it connects to the
// upstream, then copies both ways, each direction in a goroutine of its
// own. A side's end of file is passed on as a half-close (CloseWrite), so
// the other side may go on sending; an error on either side (a reset, a
// failed write) closes both at once, so no half-dead pair is left. It
// returns when both directions are done; the caller closes c.
//
// During a drain the pair is closed once it is quiet, as on the loop model
// (proxy_drain.go): see relayPair.
func (s *goroutineServer) relay(c net.Conn) {
	up, err := net.DialTimeout("tcp", s.cfg.upstream, s.cfg.connectTimeout)
	if err != nil {
		s.log.Warn("proxy: cannot connect to the upstream; closing the client", "upstream", s.cfg.upstream, "client", c.RemoteAddr(), "err", err)
		return
	}
	defer up.Close()
	p := &relayPair{s: s, client: c, up: up}
	s.addRelay(p)
	defer s.removeRelay(p)
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.copyHalf(up, c, true)
	}()
	p.copyHalf(c, up, false)
	<-done
}

// relayPair is one relay's state for the drain. Before the drain each
// direction is a plain io.Copy (which splices on Linux) and nothing is
// counted. The drain wakes both directions (a read deadline of now) and
// they go on copying through a buffer, noting when they last read and
// whether a write is under way; a timer closes the pair once it was quiet
// for the grace: no read for that long, no write owed.
type relayPair struct {
	s          *goroutineServer
	client, up net.Conn

	mu       sync.Mutex
	counted  bool        // the drain began: directions count what they move
	busy     int         // directions in a write, or still in the uncounted io.Copy
	last     time.Time   // counted: when a direction last read bytes
	closing  bool        // the drain closed the pair: input is read and dropped until the peer's FIN
	lingerTo time.Time   // closing: when the dropping stops
	done     bool        // the relay returned
	timer    *time.Timer // the quiet check, from the drain on
}

// addRelay tracks p for the drain; one that starts during the drain is
// counted from the start.
func (s *goroutineServer) addRelay(p *relayPair) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.relays[p] = struct{}{}
	if s.draining.Load() {
		p.startDrain(s.cfg.drainGrace)
	}
}

func (s *goroutineServer) removeRelay(p *relayPair) {
	s.mu.Lock()
	delete(s.relays, p)
	s.mu.Unlock()
	p.mu.Lock()
	p.done = true
	if p.timer != nil {
		p.timer.Stop()
	}
	p.mu.Unlock()
}

// drainRelays starts the drain of every relay; s.mu is held.
func (s *goroutineServer) drainRelays() {
	for p := range s.relays {
		p.startDrain(s.cfg.drainGrace)
		wake(p.client, p.up) // out of io.Copy, into the counted copy
	}
}

// startDrain makes p's directions count what they move and starts the
// quiet check.
func (p *relayPair) startDrain(grace time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counted = true
	p.last = time.Now()
	p.timer = time.AfterFunc(grace, func() { p.closeWhenQuiet(grace) })
}

// closeWhenQuiet closes the pair if it was quiet for the grace, or looks
// again once it could be.
func (p *relayPair) closeWhenQuiet(grace time.Duration) {
	p.mu.Lock()
	if p.done || p.closing {
		p.mu.Unlock()
		return
	}
	quiet := time.Since(p.last)
	if p.busy > 0 || quiet < grace {
		wait := grace
		if p.busy == 0 {
			wait = grace - quiet
		}
		p.timer.Reset(wait)
		p.mu.Unlock()
		return
	}
	p.closing = true
	p.lingerTo = time.Now().Add(p.s.cfg.lingerTimeout())
	p.mu.Unlock()
	// Nothing is owed (no write is under way), so the FINs follow every
	// byte relayed. A direction that reads anything from now on drops it.
	closeWrite(p.client)
	closeWrite(p.up)
	wake(p.client, p.up)
}

// copyHalf copies src to dst until src ends, then half-closes dst. A
// graceful shutdown interrupts the client's reads (fromClient): that ends
// this direction as if the client had sent FIN, and the upstream's answer
// still flows back. Any other error aborts both connections.
func (p *relayPair) copyHalf(dst, src net.Conn, fromClient bool) {
	p.mu.Lock()
	counted := p.counted
	if !counted {
		p.busy++ // until it is known what io.Copy has read and not written
	}
	p.mu.Unlock()
	var err error
	if !counted {
		_, err = io.Copy(dst, src)
		p.mu.Lock()
		p.busy-- // out of io.Copy, which wrote every byte it read
		counted = p.counted
		p.mu.Unlock()
		if counted && errors.Is(err, os.ErrDeadlineExceeded) && !p.stopped(fromClient) {
			err = p.copyCounted(dst, src, fromClient)
		}
	} else {
		err = p.copyCounted(dst, src, fromClient)
	}
	if errors.Is(err, errRelayDrained) {
		return
	}
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) && p.stopped(fromClient) {
		err = nil
	}
	if err != nil {
		// Abort, not close: a linger of 0 sends RST, as the failed side did.
		abortConn(dst)
		abortConn(src)
		return
	}
	if !closeWrite(dst) {
		_ = dst.Close()
	}
}

// stopped reports whether a read of the client was interrupted by the
// shutdown.
func (p *relayPair) stopped(fromClient bool) bool {
	return fromClient && p.s.stopping.Load()
}

// errRelayDrained ends a direction of a pair the drain closed.
var errRelayDrained = errors.New("relay closed by the drain")

// copyCounted is copyHalf's copy during the drain: it returns nil at
// src's end of file, errRelayDrained once it dropped src's input until the
// peer's FIN after the drain closed the pair, or the error that ended it.
func (p *relayPair) copyCounted(dst, src net.Conn, fromClient bool) error {
	buf := make([]byte, 32<<10)
	woken := true
	for {
		if woken {
			// Clear the wake-up before looking at closing and stopping,
			// which are set before their own wake-ups: none is lost.
			_ = src.SetReadDeadline(time.Time{})
			woken = false
		}
		p.mu.Lock()
		closing, to := p.closing, p.lingerTo
		p.mu.Unlock()
		if closing {
			discardUntil(src, to)
			return errRelayDrained
		}
		if p.stopped(fromClient) {
			return os.ErrDeadlineExceeded // as if the shutdown's wake-up came now
		}
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			closing = p.closing
			if !closing {
				p.last = time.Now()
				p.busy++
			}
			p.mu.Unlock()
			if closing {
				continue // read after the pair was closed: dropped, as a lingering close drops it
			}
			_, werr := dst.Write(buf[:n])
			p.mu.Lock()
			p.busy--
			p.mu.Unlock()
			if werr != nil {
				return werr
			}
		}
		switch {
		case err == nil:
		case errors.Is(err, io.EOF):
			return nil
		case errors.Is(err, os.ErrDeadlineExceeded) && !p.stopped(fromClient):
			woken = true // the pair closed, or a stale wake-up: the loop's top looks
		default:
			return err
		}
	}
}

// wake interrupts reads blocked on cs.
func wake(cs ...net.Conn) {
	now := time.Now()
	for _, c := range cs {
		_ = c.SetReadDeadline(now)
	}
}

// closeWrite sends c's FIN; it reports false where c cannot half-close.
func closeWrite(c net.Conn) bool {
	cw, ok := c.(interface{ CloseWrite() error })
	return ok && cw.CloseWrite() == nil
}

// abortConn closes c with a reset where it is TCP.
func abortConn(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}
