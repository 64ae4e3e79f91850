package loop

import (
	"net"
	"time"

	"github.com/valyala/bytebufferpool"

	"github.com/pinion-net/pinion/internal/buffer"
	"github.com/pinion-net/pinion/internal/sock"
	"github.com/pinion-net/pinion/poller"
)

// connState is where a connection is in its life:
//
//	connecting ──connected──▶ open ──Close / peer FIN / timeout──▶ closing
//	     │                      │                                    │ owed bytes flushed
//	     │                      │ error, Abort                       ▼
//	     └──────failed──────────┴─────────────────────────────▶ closed ◀── lingering
//	                                                          peer FIN or linger timeout
//
// Only open connections are read and delivered to OnData; closing ones
// only flush; lingering ones have sent FIN and discard input.
type connState uint8

const (
	stateConnecting connState = iota
	stateOpen
	stateClosing
	stateLingering
	stateClosed
)

// connFlags are independent facts about a connection.
type connFlags uint32

const (
	flagPeerEOF     connFlags = 1 << iota // the peer sent FIN: never read again
	flagReadPaused                        // owed bytes passed WriteHigh
	flagWriteClosed                       // CloseWrite was called
	flagWantRead                          // the poller has Read interest now
	flagWantWrite                         // the poller has Write interest now
	flagDirty                             // in the loop's flush list
	flagCounted                           // holds a slot of Config.Limit
	flagShutWR                            // shutdown(SHUT_WR) was done
	flagOffPaused                         // waiting for offload room, or too many tasks queued
	flagUserPaused                        // PauseReading was called
	flagDialed                            // opened by Dial, not accepted
	flagWentHigh                          // owed bytes passed WriteHigh: OnDrained is due at WriteLow
	flagStalled                           // OnData left input while Saturated: see backpressure.go
	flagRedeliver                         // unstalled, in the loop's ready list: not read before that delivery
	flagWantHangUp                        // the poller has PeerClose interest now (paused)
	flagFINSeen                           // a hang-up was reported while paused; not read yet
	flagAbandon                           // SetAbandonOnFIN: the peer's FIN abandons unfinished work
	flagDetached                          // out of the poller while paused with both directions shut: see pausedHangUp
	flagReadOwing                         // SetOwedPausesRead(false): owed bytes do not stop reading
	flagToldDrain                         // OnDrain was called (quiesce.go)

	// The io_uring backend's requests in flight (io_uring_linux.go).
	flagRecvArmed  // a multishot receive is armed
	flagRecvCancel // and its cancel is queued
	flagPollArmed  // a one-shot poll is armed (connect, or hang-up while paused)
	flagPollCancel // and its cancel is queued
	flagSendBusy   // a send is in flight: its bytes stay in out until it completes
	flagStashed    // input received while paused, not shown to OnData yet

	// pausedMask holds the reasons not to read an open connection.
	pausedMask = flagPeerEOF | flagReadPaused | flagOffPaused | flagUserPaused | flagStalled | flagRedeliver
)

// Conn is one connection owned by a loop. Its methods must be called only on
// the loop's goroutine, inside Handler callbacks, Schedule'd functions or
// functions run by Post; other goroutines use Handle.
//
// Memory per connection matters (docs/benchmarks-analysis.md, memory per
// idle connection): an idle Conn is 64 bytes, an allocator size class, and
// holds no buffer. Its inbound buffer and outbound chain are in a connIO
// that the loop lends only while they hold something, and fields needed
// only by few connections live in ext. size_test.go pins the size.
type Conn struct {
	loop       *Loop
	fd         int32
	gen        uint32
	flags      connFlags
	state      connState
	tidx       heapIndex // where its deadline is in the loop's heap, if armed
	lastActive int64     // loop clock at the last byte moved (or linger start)
	io         *connIO   // nil while it holds no input and owes nothing (ioOf, dropIO)
	ctx        any
	ext        *connExt
}

// connIO is what a connection holds while bytes pass: input left unconsumed
// and owed output with its completions. Loops keep free ones
// (conn_write.go).
type connIO struct {
	out   buffer.Chain
	in    *bytebufferpool.ByteBuffer
	inOff int32 // consumed prefix of in.B (at most MaxInbound plus one read)
}

// outq returns c's outbound chain, nil (which is empty: Len and Pending
// work on it) while c has no connIO.
func (c *Conn) outq() *buffer.Chain {
	if c.io == nil {
		return nil
	}
	return &c.io.out
}

// connExt holds what few connections need.
type connExt struct {
	readDeadline  int64 // loop clock; 0: none
	writeDeadline int64
	dialDeadline  int64
	reason        error                      // close reason, kept while closing and lingering
	dialDone      func(err error)            // Engine.Dial's waiter
	off           *offState                  // offload tasks; nil until the first Offload
	session       *Session                   // set by OffloadSession: input goes there, not to OnData
	peer          *Peer                      // set by SetPeer: addresses learned beyond the socket's
	stash         *bytebufferpool.ByteBuffer // io_uring: input received while paused (flagStashed)
	stashOff      int                        // its prefix already delivered
}

// Peer is what a connection learned of its endpoints beyond what the socket
// says, for a connection relayed by a proxy: the engine sets it from a
// PROXY protocol header.
type Peer struct {
	// Local and Remote replace what LocalAddr and RemoteAddr report;
	// nil keeps the socket's own.
	Local, Remote net.Addr
	// Info is what came with them (the engine's parsed PROXY header).
	Info any
}

func (c *Conn) extra() *connExt {
	if c.ext == nil {
		c.ext = new(connExt)
	}
	return c.ext
}

func (c *Conn) token() poller.Token { return poller.NewToken(int(c.fd), c.gen) }

// Handle returns the goroutine-safe handle of c. It stays valid (and
// harmless) after c closes: its operations then fail with ErrClosed.
func (c *Conn) Handle() Handle { return Handle{l: c.loop, tok: c.token()} }

// Loop returns the loop that owns c.
func (c *Conn) Loop() *Loop { return c.loop }

// Fd returns the connection's file descriptor. Do not close it or change
// its blocking mode; it is reused by the kernel once c is closed.
func (c *Conn) Fd() int { return int(c.fd) }

// Context returns the value set by SetContext.
func (c *Conn) Context() any { return c.ctx }

// SetContext attaches a value of the handler's to c.
func (c *Conn) SetContext(v any) { c.ctx = v }

// LocalAddr returns the local address: Peer().Local when set, else the
// socket's, asking the kernel each time.
func (c *Conn) LocalAddr() net.Addr {
	if p := c.Peer(); p != nil && p.Local != nil {
		return p.Local
	}
	return sock.LocalAddr(int(c.fd))
}

// RemoteAddr returns the peer's address: Peer().Remote when set, else the
// socket's, asking the kernel each time.
func (c *Conn) RemoteAddr() net.Addr {
	if p := c.Peer(); p != nil && p.Remote != nil {
		return p.Remote
	}
	return sock.PeerAddr(int(c.fd))
}

// SetPeer records what c learned of its endpoints beyond the socket (nil
// forgets it). Loop-only.
func (c *Conn) SetPeer(p *Peer) { c.extra().peer = p }

// Peer returns what SetPeer recorded, or nil.
func (c *Conn) Peer() *Peer {
	if c.ext == nil {
		return nil
	}
	return c.ext.peer
}

// Dialed reports whether c was opened by Dial rather than accepted.
func (c *Conn) Dialed() bool { return c.flags&flagDialed != 0 }

// Open reports whether c is open: not closing, not closed.
func (c *Conn) Open() bool { return c.state == stateOpen }

// data returns the unconsumed input. During OnData of c it is the loop's
// current view; otherwise the bytes kept in c's own buffer.
func (c *Conn) data() []byte {
	if l := c.loop; l.active == c {
		return l.view
	}
	if io := c.io; io != nil && io.in != nil {
		return io.in.B[io.inOff:]
	}
	return nil
}

// Buffered returns how many input bytes are waiting to be consumed.
func (c *Conn) Buffered() int { return len(c.data()) }

// Peek returns the first n unconsumed input bytes, or all of them when
// fewer are buffered or n < 0, without consuming them. The slice aliases the
// loop's buffers: it is valid until the callback that called Peek returns.
// Discard and Next do not move or reuse those bytes before then, so a
// decoder may discard a frame and still hand it out. Copy what must
// outlive the callback.
func (c *Conn) Peek(n int) []byte {
	b := c.data()
	if n >= 0 && n < len(b) {
		b = b[:n]
	}
	return b
}

// Discard consumes the first n input bytes (all of them when n < 0 or n is
// larger than Buffered) and returns how many were consumed.
func (c *Conn) Discard(n int) int {
	b := c.data()
	if n < 0 || n > len(b) {
		n = len(b)
	}
	if l := c.loop; l.active == c {
		l.view = b[n:]
		return n
	}
	if io := c.io; io != nil && io.in != nil {
		io.inOff += int32(n)
		if int(io.inOff) == len(io.in.B) {
			c.loop.releaseIn(c)
		}
	}
	return n
}

// Next returns the first n input bytes (all of them when n < 0 or fewer
// are buffered) and consumes them. The slice has Peek's lifetime: valid
// until the callback returns.
func (c *Conn) Next(n int) []byte {
	b := c.Peek(n)
	c.Discard(len(b))
	return b
}

// SetReadDeadline closes c with ErrReadTimeout if t passes before it is
// cleared (the zero Time clears it). Any input does not clear it.
func (c *Conn) SetReadDeadline(t time.Time) {
	c.extra().readDeadline = c.loop.clockAt(t)
	c.loop.armConn(c, c.ext.readDeadline)
}

// SetWriteDeadline closes c with ErrWriteTimeout if owed bytes are still
// queued when t passes. The zero Time clears it.
func (c *Conn) SetWriteDeadline(t time.Time) {
	c.extra().writeDeadline = c.loop.clockAt(t)
	c.loop.armConn(c, c.ext.writeDeadline)
}
