package codec

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"net/netip"
)

// A version 2 header is binary:
//
//	bytes 0-11   signature \r\n\r\n\0\r\nQUIT\n
//	byte  12     version (high nibble, 2) and command (low nibble: 0 LOCAL, 1 PROXY)
//	byte  13     family (high nibble: 0 UNSPEC, 1 INET, 2 INET6, 3 UNIX) and
//	             transport (low nibble: 0 UNSPEC, 1 STREAM, 2 DGRAM)
//	bytes 14-15  length of the rest, big endian
//	             addresses: INET 4+4+2+2, INET6 16+16+2+2, UNIX 108+108,
//	             UNSPEC none (source first, ports after both addresses)
//	             TLVs to the end: type (1 byte), length (2, big endian), value
//
// The defined family/transport bytes are 0x00, 0x11, 0x12, 0x21, 0x22,
// 0x31 and 0x32; others are refused, as the protocol requires.

// proxyAddrLen is the size of the address block of each family.
var proxyAddrLen = [4]int{ProxyUnspec: 0, ProxyINET: 12, ProxyINET6: 36, ProxyUnix: 2 * ProxyUnixPathSize}

// parseProxyV2 parses a version 2 header from the start of b, which starts
// with CR, allowing a length field up to maxLen.
func parseProxyV2(b []byte, h *ProxyHeader, maxLen int) (int, error) {
	n := min(len(b), len(proxyV2Sig))
	if string(b[:n]) != proxyV2Sig[:n] {
		return 0, proxyErrf(ErrProxySignature, "version 2 signature mismatch in its first %d bytes", n)
	}
	if len(b) > 12 {
		if v := b[12] >> 4; v != 2 {
			return 0, proxyErrf(ErrProxyVersion, "%d", v)
		}
		if c := ProxyCommand(b[12] & 0xF); c != ProxyLocal && c != ProxyProxy {
			return 0, proxyErrf(ErrProxyCommand, "%#x", c)
		}
	}
	if len(b) > 13 {
		fam, tr := ProxyFamily(b[13]>>4), ProxyTransport(b[13]&0xF)
		if fam > ProxyUnix || tr > ProxyDatagram || (fam == ProxyUnspec) != (tr == ProxyTransportUnspec) {
			return 0, proxyErrf(ErrProxyFamily, "family and transport byte %#02x", b[13])
		}
	}
	if len(b) < ProxyV2Fixed {
		return 0, nil
	}
	length := int(binary.BigEndian.Uint16(b[14:16]))
	if length > maxLen {
		return 0, &FrameTooLargeError{What: "PROXY v2 header", Size: int64(ProxyV2Fixed + length), Max: ProxyV2Fixed + maxLen}
	}
	total := ProxyV2Fixed + length
	if len(b) < total {
		return 0, nil
	}
	h.Version = 2
	h.Command = ProxyCommand(b[12] & 0xF)
	h.Family, h.Transport = ProxyFamily(b[13]>>4), ProxyTransport(b[13]&0xF)
	if h.Command == ProxyLocal {
		// The receiver must discard the whole block (proxy-protocol.txt, 2.2).
		return total, nil
	}
	if err := parseProxyV2Body(b[:total], h); err != nil {
		*h = ProxyHeader{}
		return 0, err
	}
	return total, nil
}

// parseProxyV2Body parses the addresses and TLVs of a PROXY command; hdr is
// the whole header.
func parseProxyV2Body(hdr []byte, h *ProxyHeader) error {
	body := hdr[ProxyV2Fixed:]
	need := proxyAddrLen[h.Family]
	if len(body) < need {
		return proxyErrf(ErrProxyTruncated, "%d bytes, family %d needs %d", len(body), h.Family, need)
	}
	a := body[:need]
	switch h.Family {
	case ProxyINET:
		h.Source = netip.AddrPortFrom(netip.AddrFrom4([4]byte(a[0:4])), binary.BigEndian.Uint16(a[8:10]))
		h.Destination = netip.AddrPortFrom(netip.AddrFrom4([4]byte(a[4:8])), binary.BigEndian.Uint16(a[10:12]))
	case ProxyINET6:
		h.Source = netip.AddrPortFrom(netip.AddrFrom16([16]byte(a[0:16])), binary.BigEndian.Uint16(a[32:34]))
		h.Destination = netip.AddrPortFrom(netip.AddrFrom16([16]byte(a[16:32])), binary.BigEndian.Uint16(a[34:36]))
	case ProxyUnix:
		h.SourceUnix = proxyUnixPath(a[:ProxyUnixPathSize])
		h.DestinationUnix = proxyUnixPath(a[ProxyUnixPathSize:])
	}
	tlvs := body[need:]
	if err := checkProxyTLVs(hdr, len(hdr)-len(tlvs)); err != nil {
		return err
	}
	if len(tlvs) > 0 {
		h.RawTLVs = tlvs[:len(tlvs):len(tlvs)]
	}
	return nil
}

// proxyUnixPath returns p up to its first NUL.
func proxyUnixPath(p []byte) []byte {
	if i := bytes.IndexByte(p, 0); i >= 0 {
		p = p[:i]
	}
	return p[:len(p):len(p)]
}

// checkProxyTLVs checks the TLVs of hdr, which start at off: each fits, a
// CRC32C is 4 bytes, single and matches, a unique ID is within its bound,
// an SSL TLV is well-formed.
func checkProxyTLVs(hdr []byte, off int) error {
	crcAt := -1
	for p := off; p < len(hdr); {
		t, v, next, ok := proxyNextTLV(hdr, p)
		if !ok {
			return proxyErrf(ErrProxyTLV, "TLV at offset %d runs past the header's %d bytes", p, len(hdr))
		}
		switch t {
		case ProxyTLVCRC32C:
			if len(v) != 4 || crcAt >= 0 {
				return proxyErrf(ErrProxyTLV, "CRC32C TLV of %d bytes (or not the only one)", len(v))
			}
			crcAt = p + 3
		case ProxyTLVUniqueID:
			if len(v) > ProxyMaxUniqueID {
				return proxyErrf(ErrProxyUniqueID, "%d bytes, at most %d", len(v), ProxyMaxUniqueID)
			}
		case ProxyTLVSSL:
			if err := checkProxySSL(v); err != nil {
				return err
			}
		}
		p = next
	}
	if crcAt >= 0 {
		want := binary.BigEndian.Uint32(hdr[crcAt:])
		if got := proxyCRC(hdr, crcAt); got != want {
			return proxyErrf(ErrProxyChecksum, "header sums to %#08x, TLV says %#08x", got, want)
		}
	}
	return nil
}

// checkProxySSL checks an SSL TLV's value: client (1 byte), verify (4),
// then sub-TLVs that fit.
func checkProxySSL(v []byte) error {
	if len(v) < 5 {
		return proxyErrf(ErrProxySSL, "%d bytes, want at least 5", len(v))
	}
	for p := 5; p < len(v); {
		_, _, next, ok := proxyNextTLV(v, p)
		if !ok {
			return proxyErrf(ErrProxySSL, "sub-TLV at offset %d runs past the TLV's %d bytes", p, len(v))
		}
		p = next
	}
	return nil
}

// proxyNextTLV reads the TLV at b[p:]: its type, value and where the next
// one starts; ok is false when it does not fit in b.
func proxyNextTLV(b []byte, p int) (t ProxyTLVType, v []byte, next int, ok bool) {
	if len(b)-p < 3 {
		return 0, nil, 0, false
	}
	n := int(binary.BigEndian.Uint16(b[p+1:]))
	next = p + 3 + n
	if next > len(b) {
		return 0, nil, 0, false
	}
	return ProxyTLVType(b[p]), b[p+3 : next : next], next, true
}

// proxyZeroSum stands for the checksum field while summing. It is never
// written; a local array would escape to the heap through crc32.Update.
var proxyZeroSum [4]byte

// proxyCRC returns the CRC32C (Castagnoli) of hdr with the 4 bytes at at
// taken as zeros, as the checksum TLV is defined.
func proxyCRC(hdr []byte, at int) uint32 {
	tab := crc32.MakeTable(crc32.Castagnoli) // a shared table, built once by the package
	c := crc32.Update(0, tab, hdr[:at])
	c = crc32.Update(c, tab, proxyZeroSum[:])
	return crc32.Update(c, tab, hdr[at+4:])
}
