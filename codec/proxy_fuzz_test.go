package codec

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"
)

// proxyFuzzLimits is small, so that the fuzzer reaches the v2 bound.
var proxyFuzzLimits = &ProxyLimits{MaxV2Length: 300}

// proxyFuzzMaxPrefix is the longest header whose prefixes FuzzProxyDecode
// checks one by one.
const proxyFuzzMaxPrefix = 512

// FuzzProxyDecode checks, on arbitrary input, that ParseProxy never panics;
// that it never uses more than the input or the bound, nor looks past the
// bound (the input cut at MaxHeader parses the same); that its errors are
// the documented ones; that every prefix of a header it accepts asks for
// more input; and that a header it accepts, encoded again, parses into the
// same header, byte for byte the same for a version 2 PROXY header of an IP
// family.
func FuzzProxyDecode(f *testing.F) {
	f.Add([]byte("PROXY TCP4 192.0.2.1 198.51.100.7 56324 443\r\nGET / HTTP/1.1\r\n"))
	f.Add([]byte("PROXY TCP6 2001:db8::1 ::1 1 80\r\n"))
	f.Add([]byte("PROXY UNKNOWN x\r\n"))
	f.Add(proxyMustV2(f, proxyTypicalHeader()))
	f.Add(proxyRawV2(0x20, 0x00, -1, nil))
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, lim := range []*ProxyLimits{nil, proxyFuzzLimits} {
			proxyFuzzOne(t, in, lim)
		}
	})
}

func proxyFuzzOne(t *testing.T, in []byte, lim *ProxyLimits) {
	var h ProxyHeader
	n, err := ParseProxy(in, &h, lim)
	bound := lim.MaxHeader()
	if n < 0 || n > len(in) || n > bound || (err != nil && n != 0) {
		t.Fatalf("ParseProxy(%q) = %d, %v with %d bytes and a bound of %d", in, n, err, len(in), bound)
	}
	if err != nil {
		var tl *FrameTooLargeError
		if !errors.Is(err, ErrCorrupt) && !errors.As(err, &tl) {
			t.Fatalf("ParseProxy(%q): undocumented error %v", in, err)
		}
	}
	if len(in) > bound {
		var c ProxyHeader
		n2, err2 := ParseProxy(in[:bound], &c, lim)
		if n2 != n || (err2 == nil) != (err == nil) || !c.Equal(&h) {
			t.Fatalf("cut at the bound %d: %d, %v; whole: %d, %v", bound, n2, err2, n, err)
		}
	}
	if n == 0 {
		return
	}
	if n <= proxyFuzzMaxPrefix {
		var p ProxyHeader
		for k := range n {
			if pn, perr := ParseProxy(in[:k], &p, lim); pn != 0 || perr != nil {
				t.Fatalf("prefix %q of header %q: %d, %v; want 0, nil", in[:k], in[:n], pn, perr)
			}
		}
	}
	var enc []byte
	if h.Version == 1 {
		enc, err = AppendProxyV1(nil, &h)
	} else {
		enc, err = AppendProxyV2(nil, &h)
	}
	if err != nil {
		t.Fatalf("header %q parsed as %+v, encoding it: %v", in[:n], h, err)
	}
	var again ProxyHeader
	if n2, err := ParseProxy(enc, &again, nil); n2 != len(enc) || err != nil || !again.Equal(&h) {
		t.Fatalf("header %q parsed as %+v, encoded as %q, parsed again as %+v (%d, %v)", in[:n], h, enc, again, n2, err)
	}
	if h.Version == 2 && h.Command == ProxyProxy && h.Family != ProxyUnix && !bytes.Equal(enc, in[:n]) {
		t.Fatalf("header %q encoded again as %q", in[:n], enc)
	}
}

// FuzzProxyRoundTrip builds a header from the fuzzer's values, encodes it
// with AppendProxyV1 or AppendProxyV2 (with a CRC32C when asked) and
// checks that ParseProxy gives it back: decode(encode(h)) == h, the
// checksum filled in by the encoder and verified by the parser.
func FuzzProxyRoundTrip(f *testing.F) {
	f.Add(uint8(1), uint8(1), uint8(1), uint8(1), []byte{192, 0, 2, 1}, []byte{10, 0, 0, 1}, uint16(56324), uint16(443), []byte(nil), false)
	f.Add(uint8(2), uint8(1), uint8(2), uint8(1), []byte("0123456789abcdef"), []byte("fedcba9876543210"), uint16(1), uint16(2),
		[]byte("\x01\x02h2\x02\x0bexample.com\x05\x03abc\x20\x09\x01\x00\x00\x00\x00TLSv1\xe0\x00"), true)
	f.Add(uint8(2), uint8(1), uint8(3), uint8(2), []byte("/run/a.sock"), []byte("/run/b.sock"), uint16(0), uint16(0), []byte("\x04\x02\x00\x00"), true)
	f.Add(uint8(2), uint8(0), uint8(0), uint8(0), []byte(nil), []byte(nil), uint16(0), uint16(0), []byte(nil), false)
	f.Fuzz(func(t *testing.T, version, cmd, fam, tr uint8, src, dst []byte, sport, dport uint16, tlvs []byte, crc bool) {
		h := proxyFuzzHeader(version, cmd, fam, tr, src, dst, sport, dport, tlvs, crc)
		var enc []byte
		var err error
		if h.Version == 1 {
			enc, err = AppendProxyV1(nil, &h)
		} else {
			enc, err = AppendProxyV2(nil, &h)
		}
		var tl *FrameTooLargeError
		if errors.As(err, &tl) {
			return // more TLVs than a header holds
		}
		if err != nil {
			t.Fatalf("AppendProxyV%d(%+v): %v", h.Version, h, err)
		}
		want := h
		switch {
		case h.Command == ProxyLocal:
			want = ProxyHeader{Version: 2, Command: ProxyLocal, Family: h.Family, Transport: h.Transport}
		case crc && h.Version == 2:
			// The encoder filled in the checksum: the last 4 bytes.
			want.RawTLVs = enc[len(enc)-len(h.RawTLVs):]
			if !bytes.Equal(want.RawTLVs[:len(h.RawTLVs)-4], h.RawTLVs[:len(h.RawTLVs)-4]) {
				t.Fatalf("AppendProxyV2 changed the TLVs %q into %q", h.RawTLVs, want.RawTLVs)
			}
		}
		var got ProxyHeader
		n, err := ParseProxy(enc, &got, nil)
		if n != len(enc) || err != nil || !got.Equal(&want) {
			t.Fatalf("%+v encoded as %q parsed as %+v (%d of %d bytes, %v)", want, enc, got, n, len(enc), err)
		}
	})
}

// proxyFuzzHeader makes a valid header of the fuzzer's values.
func proxyFuzzHeader(version, cmd, fam, tr uint8, src, dst []byte, sport, dport uint16, tlvs []byte, crc bool) ProxyHeader {
	h := ProxyHeader{Version: 2 - int(version%2), Command: ProxyProxy}
	if h.Version == 2 {
		h.Command = ProxyCommand(cmd % 2)
		h.Family = ProxyFamily(fam % 4)
	} else {
		h.Family = ProxyFamily(fam % 3)
	}
	if h.Family != ProxyUnspec {
		h.Transport = ProxyStream
		if h.Version == 2 && tr%2 == 1 {
			h.Transport = ProxyDatagram
		}
	}
	if h.Command == ProxyLocal {
		return h
	}
	ip := func(b []byte, size int) netip.Addr {
		var a [16]byte
		copy(a[:size], b)
		if size == 4 {
			return netip.AddrFrom4([4]byte(a[:4]))
		}
		return netip.AddrFrom16(a)
	}
	path := func(b []byte) []byte {
		b, _, _ = bytes.Cut(b, []byte{0})
		return bytes.Clone(b[:min(len(b), ProxyUnixPathSize)])
	}
	switch h.Family {
	case ProxyINET:
		h.Source, h.Destination = netip.AddrPortFrom(ip(src, 4), sport), netip.AddrPortFrom(ip(dst, 4), dport)
	case ProxyINET6:
		h.Source, h.Destination = netip.AddrPortFrom(ip(src, 16), sport), netip.AddrPortFrom(ip(dst, 16), dport)
	case ProxyUnix:
		h.SourceUnix, h.DestinationUnix = path(src), path(dst)
	}
	if h.Version == 1 {
		return h
	}
	// tlvs is read as type, length (one byte), value; values are made
	// valid for their type.
	for len(tlvs) >= 2 {
		typ, l := ProxyTLVType(tlvs[0]), int(tlvs[1])
		tlvs = tlvs[2:]
		v := tlvs[:min(l, len(tlvs))]
		tlvs = tlvs[len(v):]
		switch typ {
		case ProxyTLVCRC32C:
			continue
		case ProxyTLVUniqueID:
			v = v[:min(len(v), ProxyMaxUniqueID)]
		case ProxyTLVSSL:
			var head [5]byte
			n := copy(head[:], v)
			h.RawTLVs = AppendProxySSL(h.RawTLVs, head[0], uint32(head[1])<<24|uint32(head[4]), AppendProxyTLV(nil, ProxySSLVersion, v[n:]))
			continue
		}
		h.RawTLVs = AppendProxyTLV(h.RawTLVs, typ, v)
	}
	if crc {
		h.RawTLVs = AppendProxyTLV(h.RawTLVs, ProxyTLVCRC32C, make([]byte, 4))
	}
	return h
}
