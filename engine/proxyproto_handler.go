package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/pinion-net/pinion/codec"
	"github.com/pinion-net/pinion/internal/loop"
)

// proxyHandler wraps the user's handler on engines where a listener
// requires the PROXY protocol. An accepted connection of such a listener
// goes through these states, the first two invisible to the user's
// handler:
//
//	accepted --peer not trusted--> refused (reset; Context proxyRefused{})
//	    |
//	    | trusted: Context = its *proxyPolicy, read deadline = HeaderTimeout
//	    v
//	waiting --malformed header--> refused (reset)
//	    |  \--deadline (loop.ErrReadTimeout), peer gone--> closed by the loop
//	    |
//	    | whole header: deadline cleared, Context = nil, Peer set
//	    v
//	open: the user's OnOpen, then OnData with the bytes after the header
//
// The user's OnOpen runs only once the header was accepted, and its
// OnClose only for connections whose OnOpen ran. Dialed connections and
// those of listeners without the PROXY protocol pass straight through.
type proxyHandler struct {
	h   Handler
	log *slog.Logger
	// uniform says every listener has the policy all (nil: off), so no
	// connection's local address needs looking up.
	uniform bool
	all     *proxyPolicy
	// listeners maps bound addresses to policies (nil: off). Start fills
	// it after listening, before any loop runs; it is only read after.
	listeners []proxyListener

	accepted, rejected atomic.Uint64
}

type proxyListener struct {
	addr net.Addr
	pol  *proxyPolicy
}

// proxyRefused is the Context of a connection closed for its header.
type proxyRefused struct{}

// newProxyHandler returns h wrapped for the policies of cfg, or nil when
// no listener requires the PROXY protocol. It also validates them.
func newProxyHandler(h Handler, cfg Config) (*proxyHandler, error) {
	all, err := cfg.ProxyProtocol.resolve("ProxyProtocol")
	if err != nil {
		return nil, err
	}
	ph := &proxyHandler{h: h, log: cfg.Logger, uniform: true, all: all}
	for addr, p := range cfg.ProxyProtocolByAddr {
		found := false
		for _, a := range cfg.Addrs {
			found = found || a == addr
		}
		if !found {
			return nil, fmt.Errorf("engine: ProxyProtocolByAddr names %q, which is not in Addrs", addr)
		}
		if _, err := p.resolve("ProxyProtocolByAddr[" + addr + "]"); err != nil {
			return nil, err
		}
		ph.uniform = false
	}
	if ph.uniform && all == nil {
		return nil, nil
	}
	return ph, nil
}

// addListener records the policy of the listener cfg.Addrs[i], bound at
// bound. Start calls it for each address, before the loops run.
func (ph *proxyHandler) addListener(cfg Config, i int, bound net.Addr) {
	pol := ph.all
	if p, ok := cfg.ProxyProtocolByAddr[cfg.Addrs[i]]; ok {
		pol, _ = p.resolve("") // validated by newProxyHandler
	}
	ph.listeners = append(ph.listeners, proxyListener{addr: bound, pol: pol})
}

// policyFor returns the policy of the listener that accepted c: the one
// bound to c's local address, else one bound to the wildcard address on
// its port.
func (ph *proxyHandler) policyFor(c *Conn) *proxyPolicy {
	if ph.uniform {
		return ph.all
	}
	local := c.LocalAddr()
	var wild *proxyPolicy
	for _, l := range ph.listeners {
		switch la := l.addr.(type) {
		case *net.TCPAddr:
			ca, ok := local.(*net.TCPAddr)
			if !ok || ca.Port != la.Port {
				continue
			}
			if la.IP.Equal(ca.IP) {
				return l.pol
			}
			if la.IP.IsUnspecified() && wild == nil {
				wild = l.pol
			}
		case *net.UnixAddr:
			if ca, ok := local.(*net.UnixAddr); ok && ca.Name == la.Name {
				return l.pol
			}
		}
	}
	return wild
}

// OnOpen checks the peer and starts the wait for the header.
func (ph *proxyHandler) OnOpen(c *Conn) {
	if c.Dialed() {
		ph.h.OnOpen(c)
		return
	}
	pol := ph.policyFor(c)
	if pol == nil {
		ph.h.OnOpen(c)
		return
	}
	if !pol.trusts(c.RemoteAddr()) {
		ph.refuse(c, ErrProxyUntrusted)
		return
	}
	c.SetContext(pol)
	c.SetReadDeadline(c.Loop().Now().Add(pol.timeout))
}

// OnData parses the header of a waiting connection; once it is whole the
// user's OnOpen runs, then its OnData if input followed the header.
func (ph *proxyHandler) OnData(c *Conn) {
	pol, waiting := c.Context().(*proxyPolicy)
	if !waiting {
		ph.h.OnData(c)
		return
	}
	var h codec.ProxyHeader
	ok, err := codec.DecodeProxy(c, &h, &pol.limits)
	if err != nil {
		ph.refuse(c, fmt.Errorf("%w: %w", ErrProxyHeader, err))
		return
	}
	if !ok {
		return
	}
	ph.accept(c, &h)
	ph.h.OnOpen(c)
	if c.Open() && c.Draining() {
		ph.OnDrain(c) // the loop told the wrapper while the header was awaited
	}
	if c.Open() && c.Buffered() > 0 {
		ph.h.OnData(c)
	}
}

// OnClose reports the user's connections to the user's handler, and
// counts and logs those closed while waiting for their header.
func (ph *proxyHandler) OnClose(c *Conn, err error) {
	switch c.Context().(type) {
	case proxyRefused:
		return
	case *proxyPolicy:
		if errors.Is(err, loop.ErrShutdown) {
			return // not the peer's fault: not counted
		}
		if errors.Is(err, loop.ErrReadTimeout) {
			err = ErrProxyTimeout
		} else {
			err = fmt.Errorf("%w: %w", ErrProxyIncomplete, err)
		}
		ph.rejected.Add(1)
		ph.logRefusal(c, err)
		return
	}
	ph.h.OnClose(c, err)
}

// OnTick passes the tick on.
func (ph *proxyHandler) OnTick(l *Loop) { ph.h.OnTick(l) }

// OnPeerClose and OnDrained pass the optional hooks on to the wrapped
// handler, with BaseHandler's behaviour where it has none.
func (ph *proxyHandler) OnPeerClose(c *Conn) {
	if p, ok := ph.h.(PeerCloser); ok {
		p.OnPeerClose(c)
		return
	}
	BaseHandler{}.OnPeerClose(c)
}

func (ph *proxyHandler) OnDrained(c *Conn) {
	if d, ok := ph.h.(Drainer); ok {
		d.OnDrained(c)
	}
}

// OnDrain passes the drain on for the user's connections; one still
// waiting for its header hears of it once the header is whole (OnData).
func (ph *proxyHandler) OnDrain(c *Conn) {
	if _, waiting := c.Context().(*proxyPolicy); waiting {
		return
	}
	if d, ok := ph.h.(DrainHook); ok {
		d.OnDrain(c)
	}
}

// accept clears the header deadline and records the header and its
// addresses on c.
func (ph *proxyHandler) accept(c *Conn, h *codec.ProxyHeader) {
	c.SetReadDeadline(time.Time{})
	c.SetContext(nil)
	kept := h.Clone()
	p := &loop.Peer{Info: &kept}
	switch {
	case kept.HasAddrs():
		p.Remote = proxyNetAddr(kept.Source, kept.Transport)
		p.Local = proxyNetAddr(kept.Destination, kept.Transport)
	case kept.Command == codec.ProxyProxy && kept.Family == codec.ProxyUnix:
		network := "unix"
		if kept.Transport == codec.ProxyDatagram {
			network = "unixgram"
		}
		p.Remote = &net.UnixAddr{Name: string(kept.SourceUnix), Net: network}
		p.Local = &net.UnixAddr{Name: string(kept.DestinationUnix), Net: network}
	}
	(*loop.Conn)(c).SetPeer(p)
	ph.accepted.Add(1)
}

// proxyNetAddr returns a as a *net.TCPAddr, or *net.UDPAddr for datagrams.
func proxyNetAddr(a netip.AddrPort, t codec.ProxyTransport) net.Addr {
	if t == codec.ProxyDatagram {
		return net.UDPAddrFromAddrPort(a)
	}
	return net.TCPAddrFromAddrPort(a)
}

// refuse closes c for its header without telling the user's handler. It
// resets the connection rather than lingering for the peer's FIN: a peer
// that sent a bad header, or is not trusted, gets no more of the loop's
// time or descriptors.
func (ph *proxyHandler) refuse(c *Conn, err error) {
	ph.rejected.Add(1)
	ph.logRefusal(c, err)
	c.SetContext(proxyRefused{})
	_ = c.Abort(err)
}

func (ph *proxyHandler) logRefusal(c *Conn, err error) {
	if ph.log.Enabled(context.Background(), slog.LevelDebug) {
		ph.log.Debug("PROXY header refused; connection closed", "loop", c.Loop().ID(), "remote", c.RemoteAddr(), "err", err)
	}
}
