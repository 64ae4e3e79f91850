// Package engine is pinion's public face: it starts N event loops, each on
// a locked OS thread (pinned to a CPU on Linux), each with its own poller
// and, by default on Linux, its own SO_REUSEPORT listening socket, and runs
// a Handler's callbacks on them. No goroutine per connection.
//
// A program that embeds pinion imports engine (and codec, for framing) and
// nothing else: every type a handler names is declared here.
//
// Start returns a running *Engine; Run starts one and blocks until its
// context ends. Shutdown stops accepting, lets owed bytes flush, closes
// every connection, and returns once every loop goroutine has exited.
//
// # Threads
//
// A connection belongs to the loop that accepted (or dialed) it. Handler
// callbacks run on that loop's goroutine, and every method of Conn, and the
// loop-only methods of Loop (Now, Conns, Schedule, Dial), must be called
// from there: inside callbacks, scheduled functions and posted functions.
// Anything another goroutine needs goes through a Handle (AsyncWrite,
// Close, Abort, Wake, Post) or Loop.Post: those push a task onto the loop's
// mailbox and wake it once. A handler never blocks its loop: blocking work
// goes to the offload pool (Conn.Offload, Conn.OffloadSession).
//
// A handler can post to a loop, schedule on it and dial from it, but
// nothing it can reach stops, reruns or rewires a loop: that is the
// Engine's (Shutdown).
//
// # The tick
//
// Each loop repeats one tick, always in this order: compute the poll
// timeout (zero if the last tick had work, else the time to the next
// timer); poll; handle each event (errors, then writable, then readable,
// reading until EAGAIN or the per-connection read budget); fire expired
// timers (idle, read, write and linger deadlines, scheduled functions); run
// posted tasks up to the task budget.
//
// Writes made during a callback are queued on the connection and flushed
// once, when the callback returns, so a handler that answers sixteen
// pipelined requests costs one write system call.
//
// # Buffers
//
// A loop reads into one buffer it owns. OnData sees those bytes in place
// (Peek, Next, Discard); only what the handler leaves unconsumed is copied
// into a buffer of the connection's own. Outbound bytes go to a chain of
// pooled chunks flushed with writev. An idle connection owns no buffer.
// Above Config.WriteHigh owed bytes a connection is no longer read until
// they fall under Config.WriteLow; a write that would pass Config.WriteMax
// closes it with ErrOutboundOverflow.
//
// # Closing
//
// Conn.Close flushes what is owed, sends FIN and then reads and discards
// input until the peer closes too or the linger timeout passes, so that
// unread input cannot turn our FIN into a reset that destroys the reply.
// Conn.Abort closes at once with a reset. A peer's FIN stops reading;
// everything owed is still written before our own FIN. OnClose runs once
// per connection, with the reason.
//
// # Errors
//
// Errors are the sentinels declared here (ErrClosed, ErrIdleTimeout, ...),
// matched with errors.Is, and the types *OpError and *PanicError, matched
// with errors.As.
//
// There is no package-level state: several engines may run in one process.
package engine
