package codec

import (
	"bytes"
	"net/netip"
)

// A version 1 header is one line of at most 107 bytes:
//
//	PROXY TCP4 <src ip> <dst ip> <src port> <dst port>\r\n
//	PROXY TCP6 <src ip> <dst ip> <src port> <dst port>\r\n
//	PROXY UNKNOWN[ <anything>]\r\n
//
// Fields are separated by exactly one space. What follows UNKNOWN is
// ignored, as the protocol asks. Addresses must be in their usual textual
// form (dotted decimal without leading zeros for IPv4), ports decimal from
// 0 to 65535 without leading zeros: a field that another parser might read
// differently is refused rather than guessed at.

// parseProxyV1 parses a version 1 line from the start of b, which starts
// with 'P'.
func parseProxyV1(b []byte, h *ProxyHeader) (int, error) {
	n := min(len(b), len(proxyV1Prefix))
	if string(b[:n]) != proxyV1Prefix[:n] {
		return 0, proxyErrf(ErrProxySignature, "version 1 line starts %q", b[:n])
	}
	window := b[:min(len(b), ProxyMaxV1)]
	end := bytes.IndexByte(window, '\n')
	if end < 0 {
		if len(b) >= ProxyMaxV1 {
			// 107 bytes without an LF: the line is at least one longer.
			return 0, &FrameTooLargeError{What: "PROXY v1 line", Size: ProxyMaxV1 + 1, Max: ProxyMaxV1}
		}
		if i := bytes.IndexByte(window, '\r'); i >= 0 && i+1 < len(window) {
			return 0, proxyErrf(ErrProxyLine, "CR not followed by LF")
		}
		return 0, nil
	}
	if end < len(proxyV1Prefix) || b[end-1] != '\r' {
		return 0, proxyErrf(ErrProxyLine, "line ends with a bare LF")
	}
	line := b[len(proxyV1Prefix) : end-1]
	h.Version = 1
	h.Command = ProxyProxy
	if err := parseProxyV1Fields(line, h); err != nil {
		*h = ProxyHeader{}
		return 0, err
	}
	return end + 1, nil
}

// parseProxyV1Fields parses what follows "PROXY " up to the CRLF.
func parseProxyV1Fields(line []byte, h *ProxyHeader) error {
	proto, rest, _ := bytes.Cut(line, []byte{' '})
	switch string(proto) {
	case "UNKNOWN":
		// The rest, if any, is ignored (proxy-protocol.txt, 2.1).
		for _, c := range rest {
			if c == '\r' {
				return proxyErrf(ErrProxyLine, "CR inside the line")
			}
		}
		return nil
	case "TCP4":
		h.Family = ProxyINET
	case "TCP6":
		h.Family = ProxyINET6
	default:
		return proxyErrf(ErrProxyFamily, "version 1 protocol %q", proto)
	}
	h.Transport = ProxyStream
	if k := bytes.Count(rest, []byte{' '}); k != 3 {
		n := 2
		if len(rest) > 0 {
			n = k + 3
		}
		return proxyErrf(ErrProxyFields, "%d, want 6", n)
	}
	var f [4][]byte
	for i := range f {
		f[i], rest, _ = bytes.Cut(rest, []byte{' '})
	}
	src, err := parseProxyV1Addr(f[0], h.Family)
	if err != nil {
		return err
	}
	dst, err := parseProxyV1Addr(f[1], h.Family)
	if err != nil {
		return err
	}
	sport, err := parseProxyV1Port(f[2])
	if err != nil {
		return err
	}
	dport, err := parseProxyV1Port(f[3])
	if err != nil {
		return err
	}
	h.Source = netip.AddrPortFrom(src, sport)
	h.Destination = netip.AddrPortFrom(dst, dport)
	return nil
}

// parseProxyV1Addr parses an address of family fam.
func parseProxyV1Addr(s []byte, fam ProxyFamily) (netip.Addr, error) {
	v6 := bytes.IndexByte(s, ':') >= 0
	if v6 != (fam == ProxyINET6) {
		return netip.Addr{}, proxyErrf(ErrProxyAddressFamily, "%q after TCP%d", s, 4+2*int(fam-ProxyINET))
	}
	if !v6 {
		return parseProxyIPv4(s)
	}
	if len(s) > len("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255") || bytes.IndexByte(s, '%') >= 0 {
		return netip.Addr{}, proxyErrf(ErrProxyAddress, "%q", s)
	}
	a, err := netip.ParseAddr(string(s))
	if err != nil {
		return netip.Addr{}, proxyErrf(ErrProxyAddress, "%q", s)
	}
	return a, nil
}

// parseProxyIPv4 parses dotted decimal: four octets of 0 to 255, no
// leading zeros (which some parsers read as octal).
func parseProxyIPv4(s []byte) (netip.Addr, error) {
	var ip [4]byte
	for i := range ip {
		var part []byte
		var ok bool
		if i < 3 {
			part, s, ok = bytes.Cut(s, []byte{'.'})
			if !ok {
				return netip.Addr{}, proxyErrf(ErrProxyAddress, "IPv4 address with %d parts", i+1)
			}
		} else {
			part = s
		}
		v, ok := proxyDecimal(part, 255)
		if !ok {
			return netip.Addr{}, proxyErrf(ErrProxyAddress, "IPv4 octet %q", part)
		}
		ip[i] = byte(v)
	}
	return netip.AddrFrom4(ip), nil
}

// parseProxyV1Port parses a port.
func parseProxyV1Port(s []byte) (uint16, error) {
	v, ok := proxyDecimal(s, 0xFFFF)
	if !ok {
		return 0, proxyErrf(ErrProxyPort, "%q", s)
	}
	return uint16(v), nil
}

// proxyDecimal parses a decimal number from 0 to limit, without sign or
// leading zeros.
func proxyDecimal(s []byte, limit int) (int, bool) {
	if len(s) == 0 || len(s) > 5 || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	v := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, v <= limit
}
