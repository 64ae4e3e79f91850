package codec

import (
	"encoding/binary"
	"net/netip"
	"strconv"
)

// AppendProxyV1 appends h as a version 1 line: "PROXY TCP4 ...", "PROXY
// TCP6 ..." or, for ProxyUnspec, "PROXY UNKNOWN". It refuses what version
// 1 cannot say (LOCAL, AF_UNIX, datagrams, TLVs) and addresses not of h's
// family, returning dst unchanged and an error wrapping an ErrProxy
// sentinel. h.Version is not looked at.
func AppendProxyV1(dst []byte, h *ProxyHeader) ([]byte, error) {
	switch {
	case h.Command != ProxyProxy:
		return dst, proxyErrf(ErrProxyCommand, "version 1 has no LOCAL")
	case len(h.RawTLVs) > 0:
		return dst, proxyErrf(ErrProxyTLV, "version 1 carries no TLVs")
	case h.Family == ProxyUnspec:
		return append(dst, "PROXY UNKNOWN\r\n"...), nil
	case h.Family != ProxyINET && h.Family != ProxyINET6, h.Transport != ProxyStream:
		return dst, proxyErrf(ErrProxyFamily, "version 1 has no family %d, transport %d", h.Family, h.Transport)
	}
	if err := checkProxyAddrs(h); err != nil {
		return dst, err
	}
	proto := "PROXY TCP4 "
	if h.Family == ProxyINET6 {
		proto = "PROXY TCP6 "
	}
	dst = append(dst, proto...)
	dst = h.Source.Addr().AppendTo(dst)
	dst = append(dst, ' ')
	dst = h.Destination.Addr().AppendTo(dst)
	dst = append(dst, ' ')
	dst = strconv.AppendUint(dst, uint64(h.Source.Port()), 10)
	dst = append(dst, ' ')
	dst = strconv.AppendUint(dst, uint64(h.Destination.Port()), 10)
	return append(dst, '\r', '\n'), nil
}

// checkProxyAddrs checks that h's IP addresses are valid, unzoned and of
// its family (an IPv6 family may carry IPv4-mapped addresses).
func checkProxyAddrs(h *ProxyHeader) error {
	for _, a := range [2]netip.Addr{h.Source.Addr(), h.Destination.Addr()} {
		if !a.IsValid() || a.Zone() != "" {
			return proxyErrf(ErrProxyAddress, "%v", a)
		}
		if a.Is4() != (h.Family == ProxyINET) {
			return proxyErrf(ErrProxyAddressFamily, "%v for family %d", a, h.Family)
		}
	}
	return nil
}

// AppendProxyV2 appends h as a version 2 header. For ProxyLocal it writes
// the fixed part only, with h's family and transport. For ProxyProxy it
// writes the addresses of h's family, then h.RawTLVs as they are, except
// that the value of a CRC32C TLV among them (put one with four zero bytes,
// see AppendProxyTLV) is replaced by the header's checksum. It refuses an
// invalid header (addresses not of its family, an undefined
// family/transport pair, a Unix path over 108 bytes, malformed TLVs) with
// an error wrapping an ErrProxy sentinel, and one longer than ProxyMaxV2
// with a *FrameTooLargeError, returning dst unchanged.
func AppendProxyV2(dst []byte, h *ProxyHeader) ([]byte, error) {
	if h.Command != ProxyProxy && h.Command != ProxyLocal {
		return dst, proxyErrf(ErrProxyCommand, "%#x", h.Command)
	}
	if h.Family > ProxyUnix || h.Transport > ProxyDatagram || (h.Family == ProxyUnspec) != (h.Transport == ProxyTransportUnspec) {
		return dst, proxyErrf(ErrProxyFamily, "family %d, transport %d", h.Family, h.Transport)
	}
	start := len(dst)
	dst = append(dst, proxyV2Sig...)
	dst = append(dst, 0x20|byte(h.Command), byte(h.Family)<<4|byte(h.Transport), 0, 0)
	if h.Command == ProxyLocal {
		return dst, nil
	}
	switch h.Family {
	case ProxyINET, ProxyINET6:
		if err := checkProxyAddrs(h); err != nil {
			return dst[:start], err
		}
		src, dstAddr := h.Source.Addr().As16(), h.Destination.Addr().As16()
		if h.Family == ProxyINET {
			dst = append(dst, src[12:]...)
			dst = append(dst, dstAddr[12:]...)
		} else {
			dst = append(dst, src[:]...)
			dst = append(dst, dstAddr[:]...)
		}
		dst = binary.BigEndian.AppendUint16(dst, h.Source.Port())
		dst = binary.BigEndian.AppendUint16(dst, h.Destination.Port())
	case ProxyUnix:
		var pad [ProxyUnixPathSize]byte
		for _, p := range [2][]byte{h.SourceUnix, h.DestinationUnix} {
			if len(p) > ProxyUnixPathSize {
				return dst[:start], proxyErrf(ErrProxyAddress, "Unix path of %d bytes, at most %d", len(p), ProxyUnixPathSize)
			}
			dst = append(dst, p...)
			dst = append(dst, pad[len(p):]...)
		}
	}
	tlvAt := len(dst)
	dst = append(dst, h.RawTLVs...)
	hdr := dst[start:]
	if len(hdr) > ProxyMaxV2 {
		return dst[:start], &FrameTooLargeError{What: "PROXY v2 header", Size: int64(len(hdr)), Max: ProxyMaxV2}
	}
	binary.BigEndian.PutUint16(hdr[14:], uint16(len(hdr)-ProxyV2Fixed))
	off := tlvAt - start
	for p := off; p < len(hdr); {
		t, v, next, ok := proxyNextTLV(hdr, p)
		if !ok {
			break // reported by checkProxyTLVs
		}
		if t == ProxyTLVCRC32C && len(v) == 4 {
			binary.BigEndian.PutUint32(v, proxyCRC(hdr, p+3))
			break
		}
		p = next
	}
	if err := checkProxyTLVs(hdr, off); err != nil {
		return dst[:start], err
	}
	return dst, nil
}

// AppendProxyTLV appends one TLV to a TLV vector (for ProxyHeader.RawTLVs,
// or the sub-TLVs of AppendProxySSL). It panics if value is longer than
// 65,535 bytes, which no TLV can hold.
func AppendProxyTLV(dst []byte, t ProxyTLVType, value []byte) []byte {
	if len(value) > 0xFFFF {
		panic("codec: AppendProxyTLV: value longer than 65535 bytes")
	}
	dst = append(dst, byte(t))
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(value)))
	return append(dst, value...)
}

// AppendProxySSL appends an SSL TLV with the given client bits, verify
// result and sub-TLVs (a vector built with AppendProxyTLV). It panics if
// the TLV would be longer than 65,535 bytes.
func AppendProxySSL(dst []byte, client uint8, verify uint32, sub []byte) []byte {
	if len(sub) > 0xFFFF-5 {
		panic("codec: AppendProxySSL: sub-TLVs longer than 65530 bytes")
	}
	dst = append(dst, byte(ProxyTLVSSL))
	dst = binary.BigEndian.AppendUint16(dst, uint16(5+len(sub)))
	dst = append(dst, client)
	dst = binary.BigEndian.AppendUint32(dst, verify)
	return append(dst, sub...)
}
