package engine

import (
	"io"

	"github.com/pinion-net/pinion/internal/loop"
)

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

// PeerCloser is an optional interface of a Handler: OnPeerClose is called
// when the peer shut its write side (FIN) and every byte it sent before has
// been delivered. The connection stays open for writing until the handler
// closes it or shuts its own write side (CloseWrite). A handler without
// it, or embedding BaseHandler, closes the connection after flushing what
// it owes, with io.EOF as the reason.
type PeerCloser interface {
	OnPeerClose(c *Conn)
}

// Drainer is an optional interface of a Handler: OnDrained is called when
// a connection's owed bytes fall under Config.WriteLow after having been
// above it.
//
// A handler that pauses one connection until another drains (a proxy
// pausing the side whose bytes the other cannot take) should also call
// SetOwedPausesRead(false) on the accepted side (a dialed side has it off
// already): otherwise a side that owes more than Config.WriteHigh also
// stops reading its own peer, and a client that sends all before it reads
// (or a peer that answers what it receives) waits on the proxy, so
// neither side ever drains.
type Drainer interface {
	OnDrained(c *Conn)
}

// DrainHook is an optional interface of a Handler: OnDrain is called once
// for each open connection when the engine starts draining (Engine.Drain),
// and right after OnOpen for a connection opened during the drain. From
// then on Conn.Draining reports true. The handler finishes what the peer
// asked for, tells the peer where its protocol can (HTTP's
// "Connection: close"), and closes the connection once it is done; the
// drain ends when no connection is left, or at its deadline. A handler
// without it leaves its connections open until then.
type DrainHook interface {
	OnDrain(c *Conn)
}

// OnPeerClose closes c after flushing what it owes, with io.EOF as the
// reason: the behaviour of a handler that does not opt in to half-close.
func (BaseHandler) OnPeerClose(c *Conn) { _ = c.CloseWithError(io.EOF) }

// OnDrained does nothing.
func (BaseHandler) OnDrained(*Conn) {}

func (a *handler) OnPeerClose(c *loop.Conn) {
	if p, ok := a.h.(PeerCloser); ok {
		p.OnPeerClose((*Conn)(c))
		return
	}
	BaseHandler{}.OnPeerClose((*Conn)(c))
}

func (a *handler) OnDrained(c *loop.Conn) {
	if d, ok := a.h.(Drainer); ok {
		d.OnDrained((*Conn)(c))
	}
}

func (a *handler) OnDrain(c *loop.Conn) {
	if d, ok := a.h.(DrainHook); ok {
		d.OnDrain((*Conn)(c))
	}
}
