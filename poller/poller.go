package poller

import (
	"errors"
	"fmt"
	"time"
)

// Token identifies one registration: the fd in the low 32 bits and a
// generation in the high 32 bits. It is never a Go pointer.
type Token uint64

// NewToken returns the token for fd with generation gen.
func NewToken(fd int, gen uint32) Token {
	return Token(uint32(fd)) | Token(gen)<<32
}

// FD returns the file descriptor held in the low 32 bits of t.
func (t Token) FD() int { return int(int32(t)) }

// Gen returns the generation held in the high 32 bits of t.
func (t Token) Gen() uint32 { return uint32(t >> 32) }

// Interest is the set of readiness kinds a registration wants reported.
type Interest uint8

const (
	// Read asks for Readable events.
	Read Interest = 1 << iota
	// Write asks for Writable events.
	Write
	// PeerClose, without Read, asks only for HangUp: the peer shut down
	// its write side or the connection hung up, while the bytes that
	// arrive are not reported. It lets a caller that does not read an fd
	// for now (back-pressure) still notice that its peer has gone. With
	// Read it adds nothing: Read reports hang-ups already.
	PeerClose
)

// Flags describes the readiness reported by one Event.
type Flags uint8

const (
	// Readable means a read will not block: there are bytes, a pending
	// connection, end of file or an error to collect.
	Readable Flags = 1 << iota
	// Writable means a write will not block.
	Writable
	// HangUp means the peer shut down its write side or the connection hung up
	// (EPOLLRDHUP or EPOLLHUP; EV_EOF).
	HangUp
	// Error means the fd has a pending error (EPOLLERR; EV_ERROR, or EV_EOF
	// with an error in fflags).
	Error
)

// Event is one readiness report returned by Wait.
type Event struct {
	// Token is the token of the registration, exactly as given to the latest
	// Add or Modify of the fd.
	Token Token
	// Flags is the readiness reported.
	Flags Flags
}

// ErrUnsupported is returned by Open on systems without epoll or kqueue.
var ErrUnsupported = errors.New("poller: not supported on this platform")

// ErrClosed is returned by every method of a Poller after Close.
var ErrClosed = errors.New("poller: closed")

// errNoRoom is returned by Wait when given an empty events slice, which
// could never report anything.
var errNoRoom = errors.New("poller: wait: events slice is empty")

// Open creates a Poller with its wakeup mechanism. The caller owns it and
// must Close it.
func Open() (*Poller, error) { return open() }

// Add registers fd with token tok and the interest set in, which may be 0
// (registered, nothing wanted). Registrations are level-triggered. tok.FD()
// must equal fd. It is for the owning goroutine only.
func (p *Poller) Add(fd int, tok Token, in Interest) error { return p.add(fd, tok, in) }

// Modify replaces the interest set and the token of fd, which must be
// registered. It is for the owning goroutine only.
func (p *Poller) Modify(fd int, tok Token, in Interest) error { return p.modify(fd, tok, in) }

// Delete removes fd from the poller. Deleting an fd that is not registered
// returns an error wrapping the errno (ENOENT). It is for the owning
// goroutine only.
func (p *Poller) Delete(fd int) error { return p.delete(fd) }

// Wait waits up to timeout for readiness and fills events, returning how many
// it filled. A negative timeout waits forever; 0 does not block. Wakeups are
// consumed inside Wait and never appear in events; a wakeup makes Wait return,
// possibly with n == 0. An interrupted wait (EINTR) returns 0, nil. Wait does
// not allocate once it has seen an events slice at least as long. It is for
// the owning goroutine only.
func (p *Poller) Wait(events []Event, timeout time.Duration) (int, error) {
	return p.wait(events, timeout)
}

// Wake makes the current or the next Wait return. It is safe from any
// goroutine. Wakes that happen before the owner has consumed the previous one
// coalesce: only the first makes a system call. After Close it returns
// ErrClosed.
func (p *Poller) Wake() error { return p.wake() }

// Close releases the poller's file descriptors. It is for the owning
// goroutine only, but it is safe against concurrent Wake calls. Registered fds
// are not closed; they belong to the caller.
func (p *Poller) Close() error { return p.close() }

// checkToken reports an error when tok does not name fd; the kqueue backend
// rebuilds tokens from the fd, so a mismatch would not round-trip.
func checkToken(fd int, tok Token) error {
	if fd < 0 || tok.FD() != fd {
		return fmt.Errorf("poller: token fd %d does not match fd %d", tok.FD(), fd)
	}
	return nil
}
