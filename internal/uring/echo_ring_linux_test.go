//go:build linux && (amd64 || arm64)

package uring

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// span is the bytes of one receive completion, off of them sent.
type span struct {
	recv     CQE
	off, end int32
}

// uconn is what the ring server keeps per connection.
type uconn struct {
	gen      uint32
	open     bool
	sending  bool   // a send is in flight: at most one per socket
	inflight []span // the bytes of that send
	pending  []span // received, not yet sent
	dirty    bool   // on the list of connections to send for this turn
}

// serveUring is the completion model: multishot accept, multishot receive
// into the shared buffer ring, one gathered send in flight per connection,
// buffers recycled when their send completes, and one io_uring_enter per
// loop turn.
//
// With direct set, accepted sockets go to the ring's direct descriptor
// table and every operation names a slot instead of an fd.
func (s *echoServer) serveUring(lfd int, direct bool, ready chan<- error) error {
	cfg := Config{Entries: 1024, BufferCount: 4096, BufferSize: 2048}
	accept := (*Ring).AcceptMultishot
	if direct {
		cfg.DirectDescriptors = 4096
		accept = (*Ring).AcceptMultishotDirect
	}
	r, err := New(cfg)
	if err != nil {
		ready <- err
		return nil
	}
	defer r.Close()
	s.stop = func() { r.Wake() }
	if err := accept(r, lfd, NewToken(lfd, 0)); err != nil {
		ready <- err
		return nil
	}
	ready <- nil
	conns := make([]uconn, 1024)
	defer func() {
		for fd := range conns {
			if conns[fd].open && !direct {
				unix.Close(fd) // slots go with the ring
			}
		}
	}()
	// conns is indexed by fd, or by slot for direct descriptors.
	name := func(i int) int {
		if direct {
			return Direct(i)
		}
		return i
	}
	var cqes [1024]CQE
	var dirty, rearm []int
	closing := 0 // closes submitted whose completion has not come
	var iov [][]byte
	for !s.quit.Load() {
		if err := r.SubmitAndWait(-1); err != nil {
			return err
		}
		n := r.Reap(cqes[:])
		for _, c := range cqes[:n] {
			fd := c.Token.FD()
			switch c.Token.Op() {
			case OpAccept:
				if c.Res >= 0 {
					i := int(c.Res)
					for i >= len(conns) {
						conns = append(conns, make([]uconn, len(conns))...)
					}
					cn := &conns[i]
					cn.gen++
					cn.open = true
					r.RecvMultishot(name(i), NewToken(name(i), cn.gen))
					s.accepted.Add(1)
				}
				if !c.More() {
					accept(r, lfd, NewToken(lfd, 0))
				}
				continue
			}
			if c.Token.Op() == OpClose {
				closing--
				continue
			}
			slot, _ := IsDirect(fd)
			cn := &conns[slot]
			if !cn.open || c.Token.Gen() != cn.gen&genMask {
				// A completion for an earlier owner of the fd number.
				r.Recycle(c)
				continue
			}
			switch c.Token.Op() {
			case OpRecv:
				if _, ok := c.Buffer(); ok {
					cn.pending = append(cn.pending, span{recv: c, end: c.Res})
					if !cn.dirty {
						cn.dirty = true
						dirty = append(dirty, fd)
					}
				}
				if !c.More() {
					if errnoOf(c) == unix.ENOBUFS {
						rearm = append(rearm, fd)
					} else {
						s.closeConn(r, fd, cn)
						closing++
					}
				}
			case OpSend:
				if c.Res < 0 {
					s.closeConn(r, fd, cn)
					closing++
					continue
				}
				cn.sending = false
				left, done := c.Res, 0
				for i := range cn.inflight {
					sp := &cn.inflight[i]
					k := min(left, sp.end-sp.off)
					sp.off += k
					left -= k
					if sp.off < sp.end {
						break
					}
					r.Recycle(sp.recv)
					done++
				}
				// Shift down rather than reslice, so the slice keeps its
				// capacity and the steady state allocates nothing.
				cn.inflight = cn.inflight[:copy(cn.inflight, cn.inflight[done:])]
				if (len(cn.inflight) > 0 || len(cn.pending) > 0) && !cn.dirty {
					cn.dirty = true
					dirty = append(dirty, fd)
				}
			}
		}
		// One gathered send per connection per turn, after every completion
		// of the turn is in.
		for _, fd := range dirty {
			slot, _ := IsDirect(fd)
			cn := &conns[slot]
			cn.dirty = false
			if !cn.open || cn.sending {
				continue
			}
			cn.inflight = append(cn.inflight, cn.pending...)
			cn.pending = cn.pending[:0]
			if len(cn.inflight) == 0 {
				continue
			}
			iov = iov[:0]
			for _, sp := range cn.inflight {
				iov = append(iov, r.Bytes(sp.recv)[sp.off:])
			}
			tok := NewToken(fd, cn.gen)
			if len(iov) == 1 {
				err = r.Send(fd, iov[0], tok)
			} else {
				err = r.Sendmsg(fd, iov[:min(len(iov), r.cfg.MaxIovecs)], tok)
			}
			if err != nil {
				return err
			}
			cn.sending = true
		}
		dirty = dirty[:0]
		for _, fd := range rearm {
			if slot, _ := IsDirect(fd); conns[slot].open {
				r.RecvMultishot(fd, NewToken(fd, conns[slot].gen))
			}
		}
		rearm = rearm[:0]
		s.syscalls.Store(r.Stats().Enters)
	}
	// A close queued through the ring may need more than one enter to run
	// (the cancel linked before it completes first), and closing the ring
	// cancels whatever has not run: wait for every close before the ring
	// goes, or its fd leaks.
	deadline := time.Now().Add(testDeadline)
	for closing > 0 && time.Now().Before(deadline) {
		if err := r.SubmitAndWait(time.Second); err != nil {
			return err
		}
		for _, c := range cqes[:r.Reap(cqes[:])] {
			if c.Token.Op() == OpClose {
				closing--
			}
		}
	}
	if closing > 0 {
		return fmt.Errorf("%d closes never completed", closing)
	}
	return nil
}

// closeConn closes fd through the ring after cancelling what is armed on it,
// and recycles the buffers it held. A send still in flight completes with
// ECANCELED; the connection is no longer open then, so the completion is
// dropped, and its buffers are recycled at the next accept of that fd number
// (which a benchmark never reaches).
func (s *echoServer) closeConn(r *Ring, fd int, cn *uconn) {
	for _, sp := range cn.pending {
		r.Recycle(sp.recv)
	}
	if !cn.sending {
		for _, sp := range cn.inflight {
			r.Recycle(sp.recv)
		}
		cn.inflight = cn.inflight[:0]
	}
	cn.pending = cn.pending[:0]
	cn.open = false
	r.CancelAndCloseFD(fd, NewToken(fd, cn.gen))
}
