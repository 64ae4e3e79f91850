package engine

import (
	"unsafe"

	"github.com/pinion-net/pinion/internal/loop"
)

// Handle refers to a connection from any goroutine. It is a small value:
// copy it freely. It names the connection by fd and generation, so a handle
// to a closed connection never reaches a later connection that reuses the
// fd; its operations then report ErrClosed. Handles are comparable: every
// Handle of one connection is equal to the others, and to no other
// connection's, so a Handle can key a map (see Example_chat).
//
// Each operation posts a task to the owning loop and wakes it (concurrent
// posts share one wakeup). A method that returns an error did nothing and
// will call nothing back; otherwise its callback, if any, runs exactly once,
// on the loop's goroutine, and must not block. After the loop stopped they
// return ErrLoopClosed.
type Handle loop.Handle

// Valid reports whether h was obtained from a connection (the zero Handle
// is not valid).
func (h Handle) Valid() bool { return loop.Handle(h).Valid() }

// Loop returns the loop owning the connection.
func (h Handle) Loop() *Loop { return (*Loop)(loop.Handle(h).Loop()) }

// AsyncWrite queues p on the connection. done, if not nil, is called once
// with nil after every byte of p was handed to the kernel, or with the
// reason the bytes could not be (ErrClosed, the connection's close reason,
// ErrOutboundOverflow). p must not be modified until done is called (or,
// without done, until the connection closes); the loop copies it when the
// task runs.
func (h Handle) AsyncWrite(p []byte, done func(error)) error {
	return loop.Handle(h).AsyncWrite(p, done)
}

// Close closes the connection gracefully, as Conn.Close.
func (h Handle) Close() error { return loop.Handle(h).Close() }

// Abort resets the connection, as Conn.Abort with reason ErrClosed.
func (h Handle) Abort() error { return loop.Handle(h).Abort() }

// Wake makes the loop call OnData for the connection even if no input
// arrived, so the handler can act on state changed elsewhere.
func (h Handle) Wake() error { return loop.Handle(h).Wake() }

// Post runs fn on the loop with the connection, or with (nil, ErrClosed) if
// it is no longer open.
func (h Handle) Post(fn func(c *Conn, err error)) error {
	return loop.Handle(h).Post(connFunc(fn))
}

// connFunc returns fn as the loop's type of the same function, without the
// closure a wrapper would allocate on every Post. It is safe because the
// two function types differ only in naming one struct twice: *Conn and
// *loop.Conn are both pointers to the same struct type (the compiler
// checks it below), so a call passes the same word in the same register
// and fn sees exactly the pointer it would have been given.
func connFunc(fn func(*Conn, error)) func(*loop.Conn, error) {
	return *(*func(*loop.Conn, error))(unsafe.Pointer(&fn))
}

// Conn and loop.Conn must stay one struct for connFunc and for the free
// conversions of every Conn method: this conversion compiles only then.
var _ = (*Conn)((*loop.Conn)(nil))
