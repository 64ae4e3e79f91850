package engine

import (
	"context"
	"io"
	"net"
	"time"

	"github.com/pinion-net/pinion/internal/loop"
)

// Conn is one connection, owned by one loop. Its methods must be called
// only on that loop's goroutine: inside Handler callbacks, functions
// scheduled with Loop.Schedule, and functions run by Loop.Post or
// Handle.Post. Other goroutines use the connection's Handle.
//
// Slices that Peek and Next return alias the loop's buffers: they are valid
// until the callback that obtained them returns. Copy what must outlive it.
type Conn loop.Conn

// lc returns the loop's name of c: the same struct, so the conversion is
// free. Every method of Conn is one call through it.
func (c *Conn) lc() *loop.Conn { return (*loop.Conn)(c) }

// Handle returns the goroutine-safe handle of c. It stays valid (and
// harmless) after c closes: its operations then fail with ErrClosed.
func (c *Conn) Handle() Handle { return Handle(c.lc().Handle()) }

// Loop returns the loop that owns c.
func (c *Conn) Loop() *Loop { return (*Loop)(c.lc().Loop()) }

// Fd returns the connection's file descriptor, for socket options the
// engine does not set. Do not close it, read or write it, or change its
// blocking mode; the kernel reuses the number once c is closed.
func (c *Conn) Fd() int { return c.lc().Fd() }

// Context returns the value set by SetContext (or given to Engine.Dial).
func (c *Conn) Context() any { return c.lc().Context() }

// SetContext attaches a value of the handler's to c.
func (c *Conn) SetContext(v any) { c.lc().SetContext(v) }

// LocalAddr returns the local address, asking the kernel each time.
func (c *Conn) LocalAddr() net.Addr { return c.lc().LocalAddr() }

// RemoteAddr returns the peer's address, asking the kernel each time.
func (c *Conn) RemoteAddr() net.Addr { return c.lc().RemoteAddr() }

// Saturated reports whether c owes more than Config.WriteHigh bytes, or has
// as many offloaded tasks waiting as Config.OffloadPending allows. A handler
// that produces output checks it between requests and, when it is true,
// stops consuming input and returns: the loop stops reading c and calls
// OnData again, with the input left and no new bytes, once the owed bytes
// fall to Config.WriteLow and the tasks have room. So a connection's memory
// stays bounded by configuration however many requests a client pipelines;
// a handler that ignores it may pass Config.WriteMax, which aborts c.
// Loop-only.
func (c *Conn) Saturated() bool { return c.lc().Saturated() }

// SetAbandonOnFIN says what the peer's FIN means for c. By default (false)
// it only ends the input: what was read before it is still delivered, tasks
// run, replies are written, then c closes (or OnPeerClose runs, for a
// PeerCloser). With true, the FIN means the client gave up (as HTTP servers
// such as nginx take it): input not yet delivered is dropped, queued
// offload tasks never start, a running one sees its context cancelled and
// its reply is dropped; replies already written still go out, then c
// closes with io.EOF. A paused or stalled connection notices the FIN at
// once either way. Loop-only.
func (c *Conn) SetAbandonOnFIN(on bool) { c.lc().SetAbandonOnFIN(on) }

// SetOwedPausesRead says whether owing more than Config.WriteHigh stops
// reading c until the owed bytes fall to Config.WriteLow. It is on by
// default for an accepted connection, whose output answers its input: a
// peer that sends without reading the answers is not read either. It is
// off by default for a dialed one (Dial, DialAsync), a client, whose
// output is its own: pausing its reads would stop it taking the replies of
// a server that itself stops reading while its replies are not taken, and
// the pair would deadlock (TestDialedKeepsReading). A handler whose output
// on an accepted c comes from elsewhere, a proxy writing what the other
// side of a pair read, turns it off: the two directions then move
// independently, as over a direct connection, and the handler paces the
// producer itself (Saturated, then OnDrained). Loop-only.
func (c *Conn) SetOwedPausesRead(on bool) { c.lc().SetOwedPausesRead(on) }

// Dialed reports whether c was opened by Dial or DialAsync rather than
// accepted from a listener.
func (c *Conn) Dialed() bool { return c.lc().Dialed() }

// Draining reports whether the engine drains (Engine.Drain): it accepts no
// new connection, and c should close once it has finished what it owes.
// Loop-only.
func (c *Conn) Draining() bool { return c.lc().Draining() }

// Open reports whether c is open: not closing, not closed.
func (c *Conn) Open() bool { return c.lc().Open() }

// Buffered returns how many input bytes are waiting to be consumed.
func (c *Conn) Buffered() int { return c.lc().Buffered() }

// Peek returns the first n unconsumed input bytes, or all of them when
// fewer are buffered or n < 0, without consuming them. The slice aliases
// the loop's buffers: it is valid until the callback that called Peek
// returns. Discard and Next do not move or reuse those bytes before then,
// so a decoder may discard a frame and still hand it out.
func (c *Conn) Peek(n int) []byte { return c.lc().Peek(n) }

// Discard consumes the first n input bytes (all of them when n < 0 or n is
// larger than Buffered) and returns how many were consumed.
func (c *Conn) Discard(n int) int { return c.lc().Discard(n) }

// Next returns the first n input bytes (all of them when n < 0 or fewer
// are buffered) and consumes them. The slice has Peek's lifetime: valid
// until the callback returns.
func (c *Conn) Next(n int) []byte { return c.lc().Next(n) }

// Write queues a copy of p to be sent and returns len(p). The bytes are
// written to the socket when the current callback returns (one system call
// for all the writes of a callback), or later when the socket is writable.
// Write fails with ErrClosed once c is closing, with ErrWriteClosed after
// CloseWrite, and with ErrOutboundOverflow (closing c) when the owed bytes
// would pass Config.WriteMax.
func (c *Conn) Write(p []byte) (int, error) { return c.lc().Write(p) }

// OutboundBuffered returns how many owed bytes are queued and not yet
// handed to the kernel.
func (c *Conn) OutboundBuffered() int { return c.lc().OutboundBuffered() }

// Close closes c gracefully: input is no longer delivered, owed bytes are
// flushed, FIN is sent, and OnClose(c, nil) follows once the peer closed
// too or Config.LingerTimeout passed. Closing twice is harmless (the second
// call returns ErrClosed).
func (c *Conn) Close() error { return c.lc().Close() }

// CloseWithError is Close with a reason handed to OnClose, for example a
// codec's error for a malformed frame.
func (c *Conn) CloseWithError(reason error) error { return c.lc().CloseWithError(reason) }

// CloseWrite sends FIN once the owed bytes are flushed, and keeps reading:
// the connection closes when the peer closes its side too.
func (c *Conn) CloseWrite() error { return c.lc().CloseWrite() }

// Abort closes c at once with a reset (SO_LINGER 0): owed bytes are
// dropped and their completions get ErrClosed. OnClose gets reason.
func (c *Conn) Abort(reason error) error { return c.lc().Abort(reason) }

// PauseReading stops reading c until ResumeReading. Input already buffered
// stays buffered; a peer's FIN is noticed only once reading resumes.
func (c *Conn) PauseReading() { c.lc().PauseReading() }

// ResumeReading undoes PauseReading.
func (c *Conn) ResumeReading() { c.lc().ResumeReading() }

// SetReadDeadline closes c with ErrReadTimeout if t passes before it is
// cleared (the zero Time clears it). Input does not clear it.
func (c *Conn) SetReadDeadline(t time.Time) { c.lc().SetReadDeadline(t) }

// SetWriteDeadline closes c with ErrWriteTimeout if owed bytes are still
// queued when t passes. The zero Time clears it.
func (c *Conn) SetWriteDeadline(t time.Time) { c.lc().SetWriteDeadline(t) }

// OffloadFunc is blocking work for one connection, run on an offload pool
// worker. It writes its reply to w (the bytes are queued on the connection
// after every earlier reply) and returns nil, or an error to close the
// connection once the reply is out. ctx is cancelled when the connection
// closes or the engine stops waiting; a reply produced after that is
// dropped.
type OffloadFunc func(ctx context.Context, w io.Writer) error

// Offload runs fn on the offload pool for c. Tasks of one connection run
// one at a time and in the order they were offloaded, so their replies are
// written in order. When the pool is full, Config.OffloadPolicy decides:
// OffloadPause (the default) keeps the task and stops reading c until the
// pool has room; OffloadReject returns ErrOffloadFull and keeps nothing.
// More than Config.OffloadPending tasks waiting behind a running one are
// treated as a full pool. Without a pool it returns ErrNoOffload.
func (c *Conn) Offload(fn OffloadFunc) error { return c.lc().Offload(loop.OffloadFunc(fn)) }

// OffloadBusy reports whether c has offloaded tasks queued or running.
func (c *Conn) OffloadBusy() bool { return c.lc().OffloadBusy() }

// OffloadSession hands the whole connection to a pool worker, which runs fn
// with a blocking net.Conn view of it, a *Session: Read blocks until the
// loop delivers input, Write returns once the bytes reached the kernel,
// deadlines work, and Close closes. This is for code that can only be
// written blocking, such as crypto/tls.Server around the view. The
// handler's OnData is no longer called for c. When fn returns, the
// connection is closed gracefully (owed bytes flushed, then FIN).
//
// The session waits in the pool's queue like any offloaded task (the pool
// size bounds how many sessions run at once); input arriving meanwhile is
// buffered, up to Config.MaxInbound, then reading pauses.
func (c *Conn) OffloadSession(fn func(ctx context.Context, nc net.Conn)) error {
	return c.lc().OffloadSession(func(ctx context.Context, nc net.Conn) {
		fn(ctx, (*Session)(nc.(*loop.Session)))
	})
}
