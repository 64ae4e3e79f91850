package loop

// Handler receives the events of the connections of a loop. Every method
// runs on the loop's goroutine and must not block: blocking work belongs on
// the offload pool.
//
// A panic in a callback is recovered: the connection it concerns is closed
// with a *PanicError, the panic is counted and logged with its stack, and
// the loop goes on.
//
// # The order of a connection's callbacks
//
// This is the one place that states it (docs/architecture.md, "Callbacks
// and their order", gives the reasons):
//
//   - OnOpen runs once, first; a dialed connection that never connects
//     gets OnClose without OnOpen, and its dial callback (DialAsync,
//     Engine.Dial) runs just before OnOpen or OnClose.
//   - OnData runs any number of times after OnOpen, never after the
//     connection stopped being open.
//   - OnPeerClose (optional, PeerCloser) runs at most once, after the
//     OnData that delivered the last byte before the peer's FIN.
//   - OnDrained (optional, Drainer) runs whenever owed bytes that passed
//     WriteHigh fall to WriteLow, while the connection is open.
//   - OnDrain (optional, DrainHook) runs at most once, while the
//     connection is open: when its loop starts draining (Quiesce), or
//     right after OnOpen for a connection opened during the drain.
//   - Write completions (AsyncWrite) run once each, in the order the writes
//     were queued, when their bytes reached the kernel, or with an error
//     when the connection closes first: those of writes queued while it
//     was open run before OnClose; an AsyncWrite that reaches the loop
//     after the close gets ErrClosed after it.
//   - OnClose runs exactly once, last. It never runs while another
//     callback is on the loop's stack: a connection closed at once inside
//     a callback (Abort, a Write past WriteMax, Close with nothing owed
//     after the peer's FIN or without lingering) is closed there — its
//     methods fail with ErrClosed from then on — and its OnClose runs once
//     that callback has returned.
//   - Callbacks never nest for one connection, and every callback an API
//     call accepted (Post, Handle.Post, AsyncWrite, DialAsync) runs exactly
//     once, also when the loop stops: then with ErrClosed or ErrLoopClosed
//     (a Loop.Post function simply runs, once the loop owns no
//     connection).
type Handler interface {
	// OnOpen is called once a connection is accepted or, for Dial, connected.
	OnOpen(c *Conn)
	// OnData is called when input arrived (or after Handle.Wake). The
	// handler consumes what it can with Next or Discard; the rest stays
	// buffered, and is seen again with the next input.
	OnData(c *Conn)
	// OnClose is called once when the connection is gone, after every
	// other callback of it has returned. err is nil after a local Close,
	// io.EOF after the peer closed, or the reason (ErrIdleTimeout,
	// *OpError, *PanicError, ...). A dialed connection that never
	// connected gets OnClose without OnOpen, with an *OpError whose Op is
	// "dial", or ErrDialTimeout.
	OnClose(c *Conn, err error)
	// OnTick is called every Config.TickInterval on each loop, when set.
	OnTick(l *Loop)
}

// BaseHandler implements Handler with callbacks that do nothing, except
// OnData, which discards all input. Embed it and override what you need.
type BaseHandler struct{}

// OnOpen does nothing.
func (BaseHandler) OnOpen(*Conn) {}

// OnData discards everything buffered.
func (BaseHandler) OnData(c *Conn) { c.Discard(-1) }

// OnClose does nothing.
func (BaseHandler) OnClose(*Conn, error) {}

// OnTick does nothing.
func (BaseHandler) OnTick(*Loop) {}
