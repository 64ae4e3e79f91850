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
	//
	// A handler that produces output checks c.Saturated between requests
	// and stops consuming once it is true. The loop then stops reading c
	// and calls OnData again, with the input left and no new bytes, once
	// the owed bytes fall to Config.WriteLow (and the offload queue has
	// room). That keeps a connection's memory bounded by the watermarks
	// however many requests a client pipelines; a handler that ignores it
	// may pass Config.WriteMax, which aborts the connection.
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
