package load

import (
	"errors"
	"fmt"
	"net"
	"os"
	"time"
)

// maxResponse bounds the read buffer of a connection whose session leaves a
// partial response unconsumed.
const maxResponse = 16 << 20

// runWindow is the timing of a run: requests completed in [start, end) are
// counted; no batch starts after end; nothing waits past hard.
type runWindow struct {
	start, end, hard time.Time
	timeout          time.Duration // the longest a response may take
}

// loadConn is one connection of a run, driven by its own goroutine, and
// what it measured. Its buffer, session and histogram are allocated once.
type loadConn struct {
	c    net.Conn
	sess loadSession
	buf  []byte
	win  *runWindow // nil: measure nothing (idle mode's exchange)

	hist     latencyHist
	requests uint64 // completed in the window
	bytes    uint64 // response bytes received in the window
	err      error  // what ended the connection early
}

func newLoadConn(c net.Conn, proto loadProto, id, pipeline int, win *runWindow) *loadConn {
	return &loadConn{c: c, sess: proto.session(id), buf: make([]byte, proto.readSize(pipeline)), win: win}
}

// run repeats batches of pipeline requests until the window ends. The
// connection's deadline is pushed on lazily, at most every timeout/2 and
// never past hard, so it rarely costs anything: a stalled response is
// caught after timeout/2 to timeout.
func (lc *loadConn) run(pipeline int) {
	w := lc.win
	var deadline time.Time
	for {
		now := time.Now()
		if !now.Before(w.end) {
			return
		}
		if !deadline.Equal(w.hard) && now.Add(w.timeout/2).After(deadline) {
			deadline = now.Add(w.timeout)
			if deadline.After(w.hard) {
				deadline = w.hard
			}
			if err := lc.c.SetDeadline(deadline); err != nil {
				lc.err = err
				return
			}
		}
		if err := lc.batch(now, pipeline); err != nil {
			lc.err = err
			return
		}
	}
}

// batch writes n requests, sent at t0, and reads until every response has
// come back and been verified.
func (lc *loadConn) batch(t0 time.Time, n int) error {
	lc.sess.begin(n)
	have, done := 0, 0
	for done < n {
		if p := lc.sess.next(); p != nil {
			if _, err := lc.c.Write(p); err != nil {
				return err
			}
			continue
		}
		m, err := lc.c.Read(lc.buf[have:])
		if m > 0 {
			have += m
			used, k, verr := lc.sess.check(lc.buf[:have])
			if verr != nil {
				return verr
			}
			have = copy(lc.buf, lc.buf[used:have])
			done += k
			lc.count(t0, m, k)
			if have == len(lc.buf) {
				if err := lc.grow(); err != nil {
					return err
				}
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// count records m response bytes and k completed responses of a batch sent
// at t0, when they arrived inside the window.
func (lc *loadConn) count(t0 time.Time, m, k int) {
	w := lc.win
	if w == nil {
		return
	}
	now := time.Now()
	if now.Before(w.start) || !now.Before(w.end) {
		return
	}
	lc.bytes += uint64(m)
	if k > 0 {
		lc.requests += uint64(k)
		lc.hist.record(now.Sub(t0), k)
	}
}

func (lc *loadConn) grow() error {
	if len(lc.buf) >= maxResponse {
		return fmt.Errorf("%w: a response is larger than %d bytes", errVerify, maxResponse)
	}
	b := make([]byte, 2*len(lc.buf))
	copy(b, lc.buf)
	lc.buf = b
	return nil
}

// errKind sorts what ended a connection into the report's error counts.
type errKind int

const (
	errNone errKind = iota
	errIO
	errTimeout
	errMismatch
)

func kindOf(err error) errKind {
	switch {
	case err == nil:
		return errNone
	case errors.Is(err, errVerify):
		return errMismatch
	case errors.Is(err, os.ErrDeadlineExceeded):
		return errTimeout
	}
	return errIO
}
