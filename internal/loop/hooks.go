package loop

import "io"

// PeerCloser is an optional interface of a Handler: OnPeerClose is called
// when the peer shut its write side (a TCP FIN, or end of file on a unix
// socket) while the connection is open. All input before the FIN has been
// delivered to OnData. The connection stays open and writable: the handler
// goes on writing as long as it wants, then calls CloseWrite (our FIN; the
// connection closes once the owed bytes are out) or Close. Until then it is
// no longer read, and only IdleTimeout, WriteTimeout and a write error
// close it. A TCP proxy passes the half-close on this way.
//
// A Handler without the method gets BaseHandler's behaviour: the
// connection closes, with reason io.EOF, once the owed bytes are out.
// Connections handed to OffloadSession are not reported: the session reads
// io.EOF instead.
type PeerCloser interface {
	OnPeerClose(c *Conn)
}

// Drainer is an optional interface of a Handler: OnDrained is called when
// the owed bytes of an open connection, having passed Config.WriteHigh (as
// OutboundBuffered showed right after a Write, or later), fell to
// Config.WriteLow or below; once per such episode. A handler that paused a
// producer because the connection was behind (PauseReading on the other
// side of a proxy, a stream it stopped feeding) resumes it here.
type Drainer interface {
	OnDrained(c *Conn)
}

// hooks holds the optional interfaces of a loop's handler, found once by
// New.
type hooks struct {
	peerClose PeerCloser
	drained   Drainer
	drain     DrainHook // nil: the handler has no OnDrain
}

func hooksOf(h Handler) hooks {
	var k hooks
	k.peerClose, _ = h.(PeerCloser)
	k.drained, _ = h.(Drainer)
	k.drain, _ = h.(DrainHook)
	return k
}

// OnPeerClose closes c gracefully with reason io.EOF: the owed bytes go
// out, then the connection closes (no lingering: the peer's FIN came
// first).
func (BaseHandler) OnPeerClose(c *Conn) { _ = c.CloseWithError(io.EOF) }

// OnDrained does nothing.
func (BaseHandler) OnDrained(*Conn) {}

func (l *Loop) callPeerClose(c *Conn) {
	defer l.leave(c, "OnPeerClose", l.enter())
	l.hooks.peerClose.OnPeerClose(c)
}

func (l *Loop) callDrained(c *Conn) {
	defer l.leave(c, "OnDrained", l.enter())
	l.hooks.drained.OnDrained(c)
}
