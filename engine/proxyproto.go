package engine

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/pinion-net/pinion/codec"
	"github.com/pinion-net/pinion/internal/loop"
)

// ProxyMode says whether a listener's connections start with a PROXY
// protocol header.
type ProxyMode uint8

const (
	// ProxyOff (the default): no header is expected; the connection's
	// first bytes are the client's.
	ProxyOff ProxyMode = iota
	// ProxyRequire: every connection must start with a PROXY header,
	// version 1 or 2, from a trusted source. The receiver never guesses
	// whether a header is there (the protocol forbids it): a missing,
	// malformed or untrusted header closes the connection.
	ProxyRequire
)

// ParseProxyMode parses "off" or "require".
func ParseProxyMode(s string) (ProxyMode, error) {
	switch s {
	case "", "off":
		return ProxyOff, nil
	case "require":
		return ProxyRequire, nil
	}
	return 0, fmt.Errorf("engine: unknown PROXY protocol mode %q (want off or require)", s)
}

func (m ProxyMode) String() string {
	if m == ProxyRequire {
		return "require"
	}
	return "off"
}

// ProxyProtocol is the PROXY protocol policy of a listener
// (docs/architecture.md, "PROXY protocol").
type ProxyProtocol struct {
	// Mode is ProxyOff or ProxyRequire.
	Mode ProxyMode
	// Trusted are the networks a header is accepted from: the socket's
	// peer (the proxy) must be in one of them, or the connection is
	// closed before a byte is read. Nothing is trusted by default, and
	// ProxyRequire with no trusted network is a configuration error;
	// trust every source explicitly with 0.0.0.0/0 and ::/0. IPv4-mapped
	// IPv6 peers are matched as IPv4. A Unix-socket peer has no IP and is
	// never trusted.
	Trusted []netip.Prefix
	// HeaderTimeout bounds the wait for the whole header, from accept,
	// on the loop's timers; bytes trickled in do not extend it. Default
	// 3s.
	HeaderTimeout time.Duration
	// MaxV2Length bounds the length field of a version 2 header (see
	// codec.ProxyLimits); default and maximum 65,535. The loop buffers at
	// most 16 + MaxV2Length bytes of an incomplete header, so keep
	// Config.MaxInbound above it.
	MaxV2Length int
}

// ParseProxyTrust parses a comma-separated list of networks in CIDR form
// ("10.0.0.0/8,fd00::/8"); a bare address stands for itself alone.
func ParseProxyTrust(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil || a.Zone() != "" {
				return nil, fmt.Errorf("engine: PROXY trust %q is not a network (CIDR) or an address", f)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// Close reasons of connections whose PROXY header was refused. They are
// logged at Debug level with the peer's address and counted in
// Stats.ProxyRejected; the handler never sees these connections.
var (
	// ErrProxyUntrusted: the peer is not in ProxyProtocol.Trusted.
	ErrProxyUntrusted = errors.New("engine: PROXY header from an untrusted source")
	// ErrProxyTimeout: the header did not arrive whole within
	// ProxyProtocol.HeaderTimeout.
	ErrProxyTimeout = errors.New("engine: PROXY header not received in time")
	// ErrProxyIncomplete: the peer closed, or the connection failed,
	// before the header was whole.
	ErrProxyIncomplete = errors.New("engine: connection ended before its PROXY header")
	// ErrProxyHeader wraps what codec.ParseProxy refused (match the
	// codec's sentinels with errors.Is, or *codec.FrameTooLargeError with
	// errors.As).
	ErrProxyHeader = errors.New("engine: malformed PROXY header")
)

// proxyPolicy is a ProxyProtocol with its defaults, as the handler wrapper
// uses it. A connection waiting for its header has its *proxyPolicy as
// Context.
type proxyPolicy struct {
	trusted []netip.Prefix
	timeout time.Duration
	limits  codec.ProxyLimits
}

// resolve validates p and returns its policy, or nil when it is off.
func (p ProxyProtocol) resolve(what string) (*proxyPolicy, error) {
	switch p.Mode {
	case ProxyOff:
		return nil, nil
	case ProxyRequire:
	default:
		return nil, fmt.Errorf("engine: %s: unknown PROXY mode %d", what, p.Mode)
	}
	if len(p.Trusted) == 0 {
		return nil, fmt.Errorf("engine: %s: PROXY protocol required but no source trusted (set Trusted; 0.0.0.0/0 and ::/0 trust all)", what)
	}
	if p.HeaderTimeout < 0 || p.MaxV2Length < 0 || p.MaxV2Length > 0xFFFF {
		return nil, fmt.Errorf("engine: %s: PROXY HeaderTimeout must not be negative and MaxV2Length must be within [0, 65535]", what)
	}
	pol := &proxyPolicy{timeout: p.HeaderTimeout, limits: codec.ProxyLimits{MaxV2Length: p.MaxV2Length}}
	if pol.timeout == 0 {
		pol.timeout = 3 * time.Second
	}
	for _, t := range p.Trusted {
		if !t.IsValid() {
			return nil, fmt.Errorf("engine: %s: invalid PROXY trusted network %v", what, t)
		}
		if t.Addr().Is4In6() && t.Bits() >= 96 {
			// Peers are matched unmapped: ::ffff:10.0.0.0/104 is 10.0.0.0/8.
			t = netip.PrefixFrom(t.Addr().Unmap(), t.Bits()-96)
		}
		pol.trusted = append(pol.trusted, t.Masked())
	}
	return pol, nil
}

// trusts reports whether the socket peer a may send a header.
func (p *proxyPolicy) trusts(a net.Addr) bool {
	var ip netip.Addr
	switch a := a.(type) {
	case *net.TCPAddr:
		ip, _ = netip.AddrFromSlice(a.IP)
	case *net.UDPAddr:
		ip, _ = netip.AddrFromSlice(a.IP)
	}
	if !ip.IsValid() {
		return false
	}
	ip = ip.Unmap()
	for _, t := range p.trusted {
		if t.Contains(ip) {
			return true
		}
	}
	return false
}

// ProxyHeader returns the PROXY header c was accepted with, and whether
// there was one. Its TLVs (ALPN, authority, unique ID, SSL...) are c's own
// copy, valid as long as c is. After a PROXY command of an IP family,
// c.RemoteAddr and c.LocalAddr report the header's source and destination;
// after a LOCAL command (a health check) or an UNKNOWN/UNSPEC family they
// report the socket's. Loop-only, like every Conn method.
func ProxyHeader(c *Conn) (*codec.ProxyHeader, bool) {
	p := (*loop.Conn)(c).Peer()
	if p == nil {
		return nil, false
	}
	h, ok := p.Info.(*codec.ProxyHeader)
	return h, ok
}
