package engine

import (
	"net"
	"time"

	"github.com/pinion-net/pinion/internal/loop"
)

// Session is the blocking net.Conn view of a connection that
// Conn.OffloadSession gives to a pool worker. Its methods are safe from any
// goroutine, like a net.Conn's; it must not be used on a loop.
type Session loop.Session

// Read reads input delivered by the loop, blocking until some arrives, the
// peer closes (io.EOF), the read deadline passes (os.ErrDeadlineExceeded)
// or the session ends.
func (s *Session) Read(p []byte) (int, error) { return (*loop.Session)(s).Read(p) }

// Write sends p through the loop and returns once every byte reached the
// kernel, the write deadline passed (os.ErrDeadlineExceeded), or the session
// ended.
func (s *Session) Write(p []byte) (int, error) { return (*loop.Session)(s).Write(p) }

// Close closes the connection gracefully; reads and writes then fail with
// net.ErrClosed.
func (s *Session) Close() error { return (*loop.Session)(s).Close() }

// LocalAddr returns the connection's local address.
func (s *Session) LocalAddr() net.Addr { return (*loop.Session)(s).LocalAddr() }

// RemoteAddr returns the peer's address.
func (s *Session) RemoteAddr() net.Addr { return (*loop.Session)(s).RemoteAddr() }

// SetDeadline sets both deadlines.
func (s *Session) SetDeadline(t time.Time) error { return (*loop.Session)(s).SetDeadline(t) }

// SetReadDeadline makes a blocked or later Read fail with
// os.ErrDeadlineExceeded once t passes; the zero Time clears it.
func (s *Session) SetReadDeadline(t time.Time) error { return (*loop.Session)(s).SetReadDeadline(t) }

// SetWriteDeadline makes a Write not done by t fail with
// os.ErrDeadlineExceeded; the zero Time clears it.
func (s *Session) SetWriteDeadline(t time.Time) error { return (*loop.Session)(s).SetWriteDeadline(t) }

var _ net.Conn = (*Session)(nil)
