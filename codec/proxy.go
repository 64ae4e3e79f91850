package codec

import (
	"bytes"
	"net/netip"
)

// The PROXY protocol (HAProxy's proxy-protocol.txt, versions 1 and 2) lets a
// proxy or load balancer tell the server it connects to the addresses of the
// client it is relaying: one header, sent once, before any byte of the
// relayed connection. Version 1 is a text line, version 2 a binary block
// that can carry typed values (TLVs) after the addresses.

// Bounds of a PROXY header, fixed by the protocol.
const (
	// ProxyMaxV1 is the longest version 1 line, CRLF included.
	ProxyMaxV1 = 107
	// ProxyV2Fixed is the fixed part of a version 2 header: the 12-byte
	// signature, version and command, family and transport, and the
	// 16-bit length of what follows.
	ProxyV2Fixed = 16
	// ProxyMaxV2 is the longest version 2 header: the fixed part and the
	// largest length its 16-bit field can declare.
	ProxyMaxV2 = ProxyV2Fixed + 0xFFFF
	// ProxyMaxUniqueID is the longest value of a unique ID TLV.
	ProxyMaxUniqueID = 128
	// ProxyUnixPathSize is the size of each AF_UNIX address in a version
	// 2 header; shorter paths are padded with NUL bytes.
	ProxyUnixPathSize = 108
)

// proxyV2Sig is the signature that starts every version 2 header. It
// contains a NUL and an LF after CRLF CRLF, so no text protocol (version 1
// included) can start with it.
const proxyV2Sig = "\r\n\r\n\x00\r\nQUIT\n"

// proxyV1Prefix starts every version 1 line.
const proxyV1Prefix = "PROXY "

// ProxyCommand is the command of a PROXY header.
type ProxyCommand uint8

const (
	// ProxyLocal (version 2 only) says the connection was opened by the
	// proxy itself, typically for a health check: the receiver keeps the
	// socket's own addresses. A LOCAL header carries no addresses or TLVs.
	ProxyLocal ProxyCommand = 0
	// ProxyProxy says the connection is relayed for the client whose
	// addresses the header carries. Version 1 headers always have it.
	ProxyProxy ProxyCommand = 1
)

// ProxyFamily is the address family of a PROXY header.
type ProxyFamily uint8

const (
	// ProxyUnspec carries no addresses: version 1's UNKNOWN, version 2's
	// AF_UNSPEC. The receiver keeps the socket's own addresses.
	ProxyUnspec ProxyFamily = 0
	// ProxyINET carries IPv4 addresses and ports.
	ProxyINET ProxyFamily = 1
	// ProxyINET6 carries IPv6 addresses and ports.
	ProxyINET6 ProxyFamily = 2
	// ProxyUnix (version 2 only) carries two AF_UNIX paths.
	ProxyUnix ProxyFamily = 3
)

// ProxyTransport is the transport protocol of a PROXY header.
type ProxyTransport uint8

const (
	// ProxyTransportUnspec goes with ProxyUnspec and only with it.
	ProxyTransportUnspec ProxyTransport = 0
	// ProxyStream is TCP, or a stream AF_UNIX socket.
	ProxyStream ProxyTransport = 1
	// ProxyDatagram is UDP, or a datagram AF_UNIX socket (version 2 only).
	ProxyDatagram ProxyTransport = 2
)

// ProxyHeader is a parsed PROXY header.
//
// Its slices (RawTLVs, SourceUnix, DestinationUnix) alias the parsed input
// and have the lifetime of the input (see the package documentation);
// Clone copies them.
type ProxyHeader struct {
	// Version is 1 or 2.
	Version int
	// Command is ProxyProxy, or ProxyLocal for a version 2 LOCAL header,
	// which carries nothing else but Family and Transport as sent.
	Command ProxyCommand
	// Family and Transport describe the relayed connection.
	Family    ProxyFamily
	Transport ProxyTransport
	// Source and Destination are the client's and the proxy's addresses
	// for ProxyINET and ProxyINET6 (an IPv6 family may carry IPv4-mapped
	// addresses, which stay in their 16-byte form); zero otherwise.
	Source, Destination netip.AddrPort
	// SourceUnix and DestinationUnix are the paths of ProxyUnix, without
	// their NUL padding; nil otherwise.
	SourceUnix, DestinationUnix []byte
	// RawTLVs is the TLV section of a version 2 header, every TLV checked
	// well-formed (see TLVs, TLV and the typed accessors); nil for
	// version 1 and LOCAL.
	RawTLVs []byte
}

// ProxyLimits bound a PROXY header beyond what the protocol does. A nil
// *ProxyLimits takes the protocol's own bounds. A ProxyLimits is only read,
// so one may be shared by any number of goroutines.
type ProxyLimits struct {
	// MaxV2Length bounds the length field of a version 2 header (the
	// bytes after the 16-byte fixed part: addresses and TLVs). Zero,
	// negative or over 65,535 means 65,535. A header declaring more is
	// refused as soon as its fixed part arrived.
	MaxV2Length int
}

// maxV2Length returns the bound on the v2 length field; lim may be nil.
func (lim *ProxyLimits) maxV2Length() int {
	if lim == nil || lim.MaxV2Length <= 0 || lim.MaxV2Length > 0xFFFF {
		return 0xFFFF
	}
	return lim.MaxV2Length
}

// MaxHeader returns the most bytes a header may take under lim (lim may be
// nil): the longer of ProxyMaxV1 and the version 2 bound. ParseProxy never
// looks further into its input.
func (lim *ProxyLimits) MaxHeader() int {
	return max(ProxyMaxV1, ProxyV2Fixed+lim.maxV2Length())
}

// ParseProxy parses a PROXY header, version 1 or 2, from the start of b
// into h, which it resets first. It returns the number of bytes the header
// used; or 0 and a nil error when b holds only a prefix of a header (call
// again with more input, from the start); or an error as soon as b cannot
// start a valid header: a wrong first byte is refused at once, so input
// that is not a PROXY header is never waited for. h's fields mean nothing
// unless n > 0.
//
// It never looks past lim.MaxHeader() bytes of b, so a peer cannot make it
// wait for more. A version 1 line with no CRLF in its first 107 bytes and
// a version 2 header declaring a length over the limit return a
// *FrameTooLargeError; malformed headers return an error wrapping one of
// the ErrProxy sentinels (and ErrCorrupt). A version 2 header with a CRC32C
// TLV is returned only if the checksum matches.
//
// ParseProxy allocates nothing for a version 2 header or a version 1 TCP4
// line; a version 1 TCP6 line costs two small allocations (net/netip parses
// strings), and an error its message.
func ParseProxy(b []byte, h *ProxyHeader, lim *ProxyLimits) (int, error) {
	*h = ProxyHeader{}
	if len(b) == 0 {
		return 0, nil
	}
	switch b[0] {
	case proxyV1Prefix[0]:
		return parseProxyV1(b, h)
	case proxyV2Sig[0]:
		return parseProxyV2(b, h, lim.maxV2Length())
	}
	return 0, proxyErrf(ErrProxySignature, "first byte %#02x", b[0])
}

// DecodeProxy is ParseProxy on a Source. It reports whether a whole header
// was parsed into h, and on success discards the header's bytes from src,
// leaving what follows it (the relayed connection's first bytes). It peeks
// at no more than lim.MaxHeader() bytes. h's slices alias src's buffer:
// they stay valid after the Discard until the source's bytes change.
func DecodeProxy(src Source, h *ProxyHeader, lim *ProxyLimits) (bool, error) {
	n, err := ParseProxy(src.Peek(lim.MaxHeader()), h, lim)
	if err != nil || n == 0 {
		return false, err
	}
	src.Discard(n)
	return true, nil
}

// HasAddrs reports whether h carries IP addresses that replace the
// socket's: a PROXY command of family ProxyINET or ProxyINET6.
func (h *ProxyHeader) HasAddrs() bool {
	return h.Command == ProxyProxy && (h.Family == ProxyINET || h.Family == ProxyINET6)
}

// Clone returns a copy of h whose slices share one new array and no longer
// alias the parsed input.
func (h *ProxyHeader) Clone() ProxyHeader {
	c := *h
	n := len(h.RawTLVs) + len(h.SourceUnix) + len(h.DestinationUnix)
	if n == 0 {
		return c
	}
	buf := make([]byte, 0, n)
	take := func(s []byte) []byte {
		if s == nil {
			return nil
		}
		i := len(buf)
		buf = append(buf, s...)
		return buf[i:len(buf):len(buf)]
	}
	c.SourceUnix = take(h.SourceUnix)
	c.DestinationUnix = take(h.DestinationUnix)
	c.RawTLVs = take(h.RawTLVs)
	return c
}

// Equal reports whether h and o hold the same header: the same fields and
// the same bytes in their slices.
func (h *ProxyHeader) Equal(o *ProxyHeader) bool {
	return h.Version == o.Version && h.Command == o.Command && h.Family == o.Family &&
		h.Transport == o.Transport && h.Source == o.Source && h.Destination == o.Destination &&
		bytes.Equal(h.SourceUnix, o.SourceUnix) && bytes.Equal(h.DestinationUnix, o.DestinationUnix) &&
		bytes.Equal(h.RawTLVs, o.RawTLVs)
}
