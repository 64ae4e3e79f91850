package engine

import "github.com/pinion-net/pinion/internal/loop"

// Handler receives the events of an engine's connections. Every method runs
// on the goroutine of the loop that owns the connection and must not block:
// blocking work belongs on the offload pool (Conn.Offload,
// Conn.OffloadSession).
//
// A panic in a callback is recovered: the connection it concerns is closed
// with a *PanicError, the panic is counted (Stats.Panics) and logged with
// its stack, and the loop goes on.
type Handler interface {
	// OnOpen is called once a connection is accepted or, for a dial,
	// connected.
	OnOpen(c *Conn)
	// OnData is called when input arrived (or after Handle.Wake). The
	// handler consumes what it can with Next or Discard; the rest stays
	// buffered and is seen again with the next input.
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

// handler is the loop's view of a Handler: it hands each callback the
// engine's name of the same value. Conn and Loop are declared on the loop's
// own structs, so the conversions are free and nothing is allocated.
type handler struct{ h Handler }

func (a *handler) OnOpen(c *loop.Conn)             { a.h.OnOpen((*Conn)(c)) }
func (a *handler) OnData(c *loop.Conn)             { a.h.OnData((*Conn)(c)) }
func (a *handler) OnClose(c *loop.Conn, err error) { a.h.OnClose((*Conn)(c), err) }
func (a *handler) OnTick(l *loop.Loop)             { a.h.OnTick((*Loop)(l)) }

// Wrapped returns the user's handler, which the loops name in their logs.
func (a *handler) Wrapped() any { return a.h }
