package loop

// Handler receives the events of the connections of a loop. Every method
// runs on the loop's goroutine and must not block: blocking work belongs on
// the offload pool.
//
// A panic in a callback is recovered: the connection it concerns is closed
// with a *PanicError, the panic is counted and logged with its stack, and
// the loop goes on.
type Handler interface {
	// OnOpen is called once a connection is accepted or, for Dial, connected.
	OnOpen(c *Conn)
	// OnData is called when input arrived (or after Handle.Wake). The
	// handler consumes what it can with Next or Discard; the rest stays
	// buffered, and is seen again with the next input.
	OnData(c *Conn)
	// OnClose is called once when the connection is gone. err is nil
	// after a local Close, io.EOF after the peer closed, or the reason
	// (ErrIdleTimeout, *OpError, *PanicError, ...). A dialed connection
	// that never connected gets OnClose without OnOpen.
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
