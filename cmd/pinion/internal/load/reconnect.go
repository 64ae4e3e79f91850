package load

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// With -reconnect, a connection the server ends between responses is not
// an error: a server that drains (SIGTERM, the old process of a hot
// restart) ends its connections so, with "Connection: close" on HTTP or a
// FIN at a message boundary on echo. The connection is dialed again and
// the requests that were written and not answered are sent again, and
// counted (Resent): the server never answered them, so sending them again
// is what any client that retries does. What remains an error: a response
// cut by the end of the connection, bytes after a "Connection: close"
// response, a reset, a failed reconnect, a timeout.

// resumable is a session that can say where its connection stands, for
// -reconnect: echo and HTTP sessions are.
type resumable interface {
	// atBoundary reports whether the connection ended between
	// responses, with have bytes of a response read and not consumed.
	atBoundary(have int) bool
	// unanswered returns how many requests were written and not answered.
	unanswered() int
	// closing reports whether the server said it closes the connection
	// after the last response (HTTP's "Connection: close").
	closing() bool
}

func (s *echoSession) atBoundary(have int) bool { return have == 0 && s.recv%uint64(s.size) == 0 }
func (s *echoSession) unanswered() int {
	return int((s.sent - s.recv + uint64(s.size) - 1) / uint64(s.size))
}
func (s *echoSession) closing() bool { return false }

func (s *httpSession) atBoundary(have int) bool { return have == 0 }
func (s *httpSession) unanswered() int          { return s.owed }
func (s *httpSession) closing() bool            { return s.closed }

// reconnector dials a connection of a run again, for -reconnect.
type reconnector struct {
	addr    string
	timeout time.Duration
	proto   loadProto
	id      int

	mu     sync.Mutex
	opened []net.Conn // the connections it dialed, closed by closeAll

	reconnects uint64 // connections dialed again
	resent     uint64 // requests sent again because the server ended their connection unanswered
}

// closeAll closes the connections r dialed.
func (r *reconnector) closeAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.opened {
		_ = c.Close()
	}
}

// resumeAfter handles the end of lc's connection (err from a read, with
// have response bytes unconsumed) in a batch with left requests not yet
// answered: when the server ended it between responses, lc goes on on a
// new connection with the left requests, and resumeAfter returns nil.
// Otherwise it returns err.
func (lc *loadConn) resumeAfter(err error, have, left int) error {
	s, ok := lc.sess.(resumable)
	if lc.re == nil || !ok || !errors.Is(err, io.EOF) {
		return err
	}
	if !s.atBoundary(have) {
		return fmt.Errorf("%w: the server closed the connection in the middle of a response", errVerify)
	}
	lc.re.resent += uint64(s.unanswered())
	return lc.redial(left)
}

// redial replaces lc's connection by a new one and begins a batch of left
// requests on it with a fresh session.
func (lc *loadConn) redial(left int) error {
	r := lc.re
	if lc.win != nil && !time.Now().Before(lc.win.hard) {
		return fmt.Errorf("reconnect: %w", errRunOver)
	}
	_ = lc.c.Close()
	c, err := net.DialTimeout("tcp", r.addr, r.timeout)
	if err != nil {
		return fmt.Errorf("reconnect: %w", err)
	}
	r.mu.Lock()
	r.opened = append(r.opened, c)
	r.mu.Unlock()
	deadline := time.Now().Add(r.timeout)
	if lc.win != nil && deadline.After(lc.win.hard) {
		deadline = lc.win.hard
	}
	if err := c.SetDeadline(deadline); err != nil {
		return err
	}
	r.reconnects++
	lc.c, lc.sess = c, r.proto.session(r.id)
	lc.sess.begin(left)
	return nil
}

// errRunOver ends a connection that would reconnect after the run's hard
// end.
var errRunOver = errors.New("the run is over")

// closingNow reports whether lc's server said it closes the connection
// after the last response: the next batch goes on a new connection.
func (lc *loadConn) closingNow() bool {
	s, ok := lc.sess.(resumable)
	return lc.re != nil && ok && s.closing()
}
