// Package loop is one event loop of pinion: a goroutine that owns a poller,
// a read buffer, a chunk pool, a timer heap and every connection registered
// with it.
//
// Only package engine imports it: engine declares the public names of its
// types (engine.Conn is declared on Conn, engine.Loop is a handler's view
// of Loop without Run, Drain or Abort), and its methods that only the
// engine may call (New, Run, Drain, Abort, Listen, AddListener, ...) are
// unreachable from outside the module (ADR 0006).
//
// # Threads
//
// A Loop and the Conns it owns belong to the goroutine that calls Loop.Run.
// Handler callbacks run on that goroutine, and every method of Conn and the
// loop-only methods of Loop (Schedule, Dial, Conns) must be called from
// there. Anything another goroutine needs goes through a Handle
// (AsyncWrite, Close, Abort, Wake, Post) or Loop.Post: those push a task
// onto the loop's mailbox and wake its poller once.
//
// # The tick
//
// Loop.Run repeats one tick, always in this order:
//
//  1. compute the poll timeout: zero if the last tick had work, else the
//     time to the next timer, else infinite;
//  2. poll;
//  3. for each event: errors, then writable (flush), then readable (read
//     until EAGAIN, a short read or the per-connection read budget); then
//     OnData again for stalled connections whose backlog drained;
//  4. fire expired timers: idle, read, write and linger deadlines, and
//     tasks scheduled with Schedule;
//  5. run posted tasks up to the task budget.
//
// Writes made during a step are queued on the connection and flushed once,
// at the end of the callback that made them (for posted tasks, at the end
// of the tick's batch), so a handler that answers sixteen pipelined
// requests, or a thousand AsyncWrites run in one tick, cost one write
// system call.
//
// # Buffers
//
// A Loop reads into one buffer it owns. OnData sees those bytes in place;
// only what the handler leaves unconsumed is copied into a buffer of the
// connection's own, returned to the pool once consumed. Outbound bytes go
// to a chain of pooled chunks flushed with writev. An idle connection owns
// no buffer at all.
//
// Above the high watermark of outbound bytes a connection is no longer read
// until the backlog falls under the low watermark; a write that would pass
// the hard cap closes it with ErrOutboundOverflow. Requests already read
// are held back the same way: a handler stops consuming while
// Conn.Saturated, and the loop delivers the rest again once the backlog
// has drained (processing backpressure, backpressure.go). A connection not
// being read still watches for its peer's hang-up.
//
// # I/O backends
//
// Config.IO chooses how the tick's steps 2 and 3 talk to the kernel. With
// IOEpoll (the description above) the loop polls for readiness and makes
// the reads and writes itself. With IOUring (io_uring_linux.go,
// docs/adr/0010-io-uring-backend.md) step 2 is one io_uring_enter that
// submits what the last tick queued and collects completions, and step 3
// handles completions: bytes received into the ring's shared provided
// buffers (delivered in place, the buffer returned as deliver returns),
// sends completed, accepts, polls and closes. Flushes write at once as
// with the poller; what a full socket does not take goes in one send
// through the ring, which waits for room (its bytes leave the outbound
// chain only when it completes; nothing else is written meanwhile).
// Pauses cancel the receive. Callbacks, their order and every bound above
// are the same on both.
//
// # Closing
//
// Close flushes what is owed, sends FIN and then reads and discards input
// until the peer closes too or the linger timeout passes, so that unread
// input cannot turn our FIN into a reset that destroys the reply. Abort
// closes at once with a reset. A peer's FIN stops reading; a handler that
// implements PeerCloser learns of it and may keep writing until it calls
// CloseWrite or Close; otherwise everything owed is still written, then
// the connection closes. The order of a connection's callbacks is stated
// on Handler.
package loop
