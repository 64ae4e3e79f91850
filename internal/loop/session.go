package loop

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// errSessionEnd marks the end of a session task: the connection then
// closes gracefully with no error.
var errSessionEnd = errors.New("loop: session ended")

// OffloadSession hands the whole connection to a pool worker, which runs fn
// with a blocking net.Conn view of it: Read blocks until the loop delivers
// input, Write returns once the bytes reached the kernel, deadlines work,
// and Close closes. This is for code that can only be written blocking —
// crypto/tls.Server around the view, a legacy request/response library.
// The handler's OnData is no longer called for c. When fn returns, the
// connection is closed gracefully (owed bytes flushed, then FIN).
//
// The session waits in the pool's queue like any offloaded task (the pool
// size bounds how many sessions run at once); input arriving meanwhile is
// buffered, up to Config.MaxInbound, then reading pauses. Loop-only.
func (c *Conn) OffloadSession(fn func(ctx context.Context, nc net.Conn)) error {
	l := c.loop
	if c.state != stateOpen {
		return ErrClosed
	}
	if c.extra().session != nil {
		return errors.New("loop: connection already has a session")
	}
	s := &Session{
		h:        c.Handle(),
		limit:    l.cfg.MaxInbound,
		local:    c.LocalAddr(),
		remote:   c.RemoteAddr(),
		readable: make(chan struct{}, 1),
	}
	if err := c.Offload(func(ctx context.Context, _ io.Writer) error {
		fn(ctx, s)
		return errSessionEnd
	}); err != nil {
		return err
	}
	c.ext.session = s
	if b := c.Next(-1); len(b) > 0 {
		s.feed(c, b)
	}
	return nil
}

// Session is the blocking net.Conn view of a connection given to a pool
// worker by Conn.OffloadSession. Its methods are safe from any goroutine,
// like a net.Conn's; it must not be used on the loop.
type Session struct {
	h             Handle
	limit         int
	local, remote net.Addr
	readable      chan struct{} // a token whenever input, EOF, close or a deadline change arrives

	mu       sync.Mutex
	in       []byte
	eof      bool  // the peer sent FIN
	closed   bool  // Close was called
	err      error // set once the connection is gone: I/O fails with it once input is read
	paused   bool  // the loop stopped reading because in is full
	rdl, wdl time.Time
}

// feed runs on the loop with new input for the session.
func (s *Session) feed(c *Conn, b []byte) {
	s.mu.Lock()
	s.in = append(s.in, b...)
	full := len(s.in) >= s.limit && !s.paused
	if full {
		s.paused = true
	}
	s.mu.Unlock()
	if full {
		c.PauseReading()
	}
	s.signal()
}

// peerEOF runs on the loop when the peer sent FIN.
func (s *Session) peerEOF() {
	s.mu.Lock()
	s.eof = true
	s.mu.Unlock()
	s.signal()
}

// shut ends the session's I/O with err (the first reason wins).
func (s *Session) shut(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
	s.signal()
}

func (s *Session) signal() {
	select {
	case s.readable <- struct{}{}:
	default:
	}
}

// Read reads input delivered by the loop, blocking until some arrives, the
// peer closes (io.EOF), the read deadline passes (os.ErrDeadlineExceeded)
// or the session ends.
func (s *Session) Read(p []byte) (int, error) {
	for {
		s.mu.Lock()
		switch {
		case s.closed:
			s.mu.Unlock()
			return 0, net.ErrClosed
		case len(s.in) > 0:
			n := copy(p, s.in)
			s.in = s.in[:copy(s.in, s.in[n:])]
			resume := s.paused && len(s.in) < s.limit/2
			if resume {
				s.paused = false
			}
			s.mu.Unlock()
			if resume {
				_ = s.h.Post(func(c *Conn, err error) {
					if c != nil {
						c.ResumeReading()
					}
				})
			}
			return n, nil
		case s.eof:
			s.mu.Unlock()
			return 0, io.EOF
		case s.err != nil:
			err := s.err
			s.mu.Unlock()
			return 0, err
		}
		dl := s.rdl
		s.mu.Unlock()
		if err := s.wait(dl); err != nil {
			return 0, err
		}
	}
}

// wait blocks until a signal or the deadline dl (zero: none).
func (s *Session) wait(dl time.Time) error {
	if dl.IsZero() {
		<-s.readable
		return nil
	}
	d := time.Until(dl)
	if d <= 0 {
		return os.ErrDeadlineExceeded
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-s.readable:
		return nil
	case <-t.C:
		return os.ErrDeadlineExceeded
	}
}

// Write sends p through the loop and returns once every byte reached the
// kernel, the write deadline passed, or the session ended. With the write
// deadline already passed it sends nothing and returns
// (0, os.ErrDeadlineExceeded).
func (s *Session) Write(p []byte) (int, error) {
	s.mu.Lock()
	closed, err, dl := s.closed, s.err, s.wdl
	s.mu.Unlock()
	switch {
	case closed:
		return 0, net.ErrClosed
	case err != nil:
		return 0, err
	case !dl.IsZero() && !time.Now().Before(dl):
		// net.Conn's contract: past the deadline nothing is sent.
		return 0, os.ErrDeadlineExceeded
	case len(p) == 0:
		return 0, nil
	}
	// The loop copies p when the task runs, but a deadline may return
	// before that: hand it a copy the caller cannot change.
	b := append([]byte(nil), p...)
	done := make(chan error, 1)
	t := task{kind: taskSessionWrite, tok: s.h.tok, data: b, done: func(err error) { done <- err }}
	if s.h.l.post(t) != nil {
		return 0, net.ErrClosed
	}
	var timeout <-chan time.Time
	if !dl.IsZero() {
		tm := time.NewTimer(time.Until(dl))
		defer tm.Stop()
		timeout = tm.C
	}
	select {
	case err := <-done:
		if err != nil {
			return 0, err
		}
		return len(p), nil
	case <-timeout:
		return 0, os.ErrDeadlineExceeded // the bytes may still go out
	}
}

// Close closes the connection gracefully; reads and writes then fail with
// net.ErrClosed.
func (s *Session) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.signal()
	return s.h.Close()
}

// LocalAddr returns the connection's local address.
func (s *Session) LocalAddr() net.Addr { return s.local }

// RemoteAddr returns the peer's address.
func (s *Session) RemoteAddr() net.Addr { return s.remote }

// SetDeadline sets both deadlines.
func (s *Session) SetDeadline(t time.Time) error {
	s.mu.Lock()
	s.rdl, s.wdl = t, t
	s.mu.Unlock()
	s.signal()
	return nil
}

// SetReadDeadline makes a blocked or later Read fail with
// os.ErrDeadlineExceeded once t passes; the zero Time clears it.
func (s *Session) SetReadDeadline(t time.Time) error {
	s.mu.Lock()
	s.rdl = t
	s.mu.Unlock()
	s.signal()
	return nil
}

// SetWriteDeadline makes a Write not done by t fail with
// os.ErrDeadlineExceeded; the zero Time clears it.
func (s *Session) SetWriteDeadline(t time.Time) error {
	s.mu.Lock()
	s.wdl = t
	s.mu.Unlock()
	return nil
}

var _ net.Conn = (*Session)(nil)
