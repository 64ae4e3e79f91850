package codec

import (
	"bytes"
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestParseProxyV1(t *testing.T) {
	ap := netip.MustParseAddrPort
	tests := []struct {
		name string
		in   string
		want ProxyHeader
	}{
		{"tcp4", "PROXY TCP4 192.0.2.1 198.51.100.7 56324 443\r\n",
			ProxyHeader{Version: 1, Command: ProxyProxy, Family: ProxyINET, Transport: ProxyStream,
				Source: ap("192.0.2.1:56324"), Destination: ap("198.51.100.7:443")}},
		{"tcp4 extremes", "PROXY TCP4 0.0.0.0 255.255.255.255 0 65535\r\n",
			ProxyHeader{Version: 1, Command: ProxyProxy, Family: ProxyINET, Transport: ProxyStream,
				Source: ap("0.0.0.0:0"), Destination: ap("255.255.255.255:65535")}},
		{"tcp6", "PROXY TCP6 2001:db8::1 ::1 1 80\r\n",
			ProxyHeader{Version: 1, Command: ProxyProxy, Family: ProxyINET6, Transport: ProxyStream,
				Source: ap("[2001:db8::1]:1"), Destination: ap("[::1]:80")}},
		{"tcp6 longest", "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n",
			ProxyHeader{Version: 1, Command: ProxyProxy, Family: ProxyINET6, Transport: ProxyStream,
				Source:      ap("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535"),
				Destination: ap("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535")}},
		{"tcp6 v4-mapped", "PROXY TCP6 ::ffff:192.0.2.1 ::1 5 6\r\n",
			ProxyHeader{Version: 1, Command: ProxyProxy, Family: ProxyINET6, Transport: ProxyStream,
				Source: ap("[::ffff:192.0.2.1]:5"), Destination: ap("[::1]:6")}},
		{"unknown", "PROXY UNKNOWN\r\n", ProxyHeader{Version: 1, Command: ProxyProxy}},
		{"unknown with rest ignored", "PROXY UNKNOWN ffff::1 what ever 1 2 3\r\n", ProxyHeader{Version: 1, Command: ProxyProxy}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.in + "GET / HTTP/1.1\r\n")
			var h ProxyHeader
			n, err := ParseProxy(in, &h, nil)
			if err != nil || n != len(tt.in) {
				t.Fatalf("ParseProxy(%q) = %d, %v; want %d, nil", tt.in, n, err, len(tt.in))
			}
			if !h.Equal(&tt.want) {
				t.Fatalf("ParseProxy(%q) = %+v, want %+v", tt.in, h, tt.want)
			}
		})
	}
}

func TestParseProxyV2(t *testing.T) {
	h := proxyTypicalHeader()
	enc := proxyMustV2(t, h)
	in := append(bytes.Clone(enc), "GET /"...)
	var got ProxyHeader
	n, err := ParseProxy(in, &got, nil)
	if err != nil || n != len(enc) {
		t.Fatalf("ParseProxy = %d, %v; want %d, nil", n, err, len(enc))
	}
	if got.Source != h.Source || got.Destination != h.Destination || got.Family != ProxyINET ||
		got.Transport != ProxyStream || got.Command != ProxyProxy || got.Version != 2 {
		t.Fatalf("got %+v, want the addresses of %+v", got, h)
	}
	if !got.HasAddrs() {
		t.Error("HasAddrs() = false for a PROXY TCP4 header")
	}
	check := func(what string, got []byte, want string) {
		t.Helper()
		if string(got) != want {
			t.Errorf("%s = %q, want %q", what, got, want)
		}
	}
	check("ALPN", got.ALPN(), "h2")
	check("Authority", got.Authority(), "example.com")
	check("UniqueID", got.UniqueID(), "conn-0123456789")
	ssl, ok := got.SSL()
	if !ok || ssl.Client != ProxySSLClientSSL|ProxySSLClientCertConn || ssl.Verify != 0 {
		t.Fatalf("SSL() = %+v, %v", ssl, ok)
	}
	check("SSL Version", ssl.Version(), "TLSv1.3")
	check("SSL Cipher", ssl.Cipher(), "TLS_AES_128_GCM_SHA256")
	check("SSL CN", ssl.CN(), "client.example")
	check("SSL SigAlg", ssl.SigAlg(), "")
	app, ok := got.TLV(0xE0)
	check("TLV(0xE0)", app, "app")
	if !ok {
		t.Error("TLV(0xE0) not found")
	}
	var types []ProxyTLVType
	for typ := range got.TLVs() {
		types = append(types, typ)
	}
	want := []ProxyTLVType{ProxyTLVALPN, ProxyTLVAuthority, ProxyTLVUniqueID, ProxyTLVSSL, ProxyTLVNoop, 0xE0, ProxyTLVCRC32C}
	if string(types) != string(want) {
		t.Errorf("TLVs() yields types %x, want %x", types, want)
	}
	var subs []ProxyTLVType
	for typ := range ssl.TLVs() {
		subs = append(subs, typ)
	}
	if want := []ProxyTLVType{ProxySSLVersion, ProxySSLCipher, ProxySSLCN}; string(subs) != string(want) {
		t.Errorf("SSL TLVs() yields types %x, want %x", subs, want)
	}
	// The checksum covers the whole header: flip any byte after the
	// signature and the header is refused, save the CRC TLV's type byte,
	// which makes the header one without a checksum.
	crcType := len(enc) - 7
	for i := ProxyV2Fixed; i < len(enc); i++ {
		if i == crcType {
			continue
		}
		bad := bytes.Clone(enc)
		bad[i] ^= 0x40
		if n, err := ParseProxy(bad, &got, nil); err == nil {
			t.Fatalf("byte %d flipped: ParseProxy = %d, nil; want an error", i, n)
		}
	}
}

func TestParseProxyV2Families(t *testing.T) {
	ap := netip.MustParseAddrPort
	tests := []ProxyHeader{
		{Version: 2, Command: ProxyProxy, Family: ProxyINET, Transport: ProxyDatagram,
			Source: ap("10.0.0.1:53"), Destination: ap("10.0.0.2:5353")},
		{Version: 2, Command: ProxyProxy, Family: ProxyINET6, Transport: ProxyStream,
			Source: ap("[2001:db8::1]:1"), Destination: ap("[::ffff:10.0.0.1]:2")},
		{Version: 2, Command: ProxyProxy, Family: ProxyUnix, Transport: ProxyStream,
			SourceUnix: []byte("/run/client.sock"), DestinationUnix: []byte(strings.Repeat("d", ProxyUnixPathSize))},
		{Version: 2, Command: ProxyProxy, RawTLVs: AppendProxyTLV(nil, ProxyTLVAuthority, []byte("a"))},
		{Version: 2, Command: ProxyLocal},
		{Version: 2, Command: ProxyLocal, Family: ProxyINET, Transport: ProxyStream},
	}
	for _, h := range tests {
		enc := proxyMustV2(t, &h)
		var got ProxyHeader
		n, err := ParseProxy(enc, &got, nil)
		if err != nil || n != len(enc) || !got.Equal(&h) {
			t.Errorf("%+v: encoded %x, parsed %d, %v as %+v", h, enc, n, err, got)
		}
		if got.HasAddrs() != (h.Command == ProxyProxy && (h.Family == ProxyINET || h.Family == ProxyINET6)) {
			t.Errorf("%+v: HasAddrs() = %v", h, got.HasAddrs())
		}
		clone := got.Clone()
		if !clone.Equal(&got) {
			t.Errorf("Clone() = %+v, want %+v", clone, got)
		}
	}
}

// TestParseProxyLocalDiscards checks that a LOCAL header's block is skipped
// whatever it holds, as the protocol asks.
func TestParseProxyLocalDiscards(t *testing.T) {
	in := proxyRawV2(0x20, 0x11, -1, []byte{1, 2, 3, 0xFF, 0xFF})
	var h ProxyHeader
	n, err := ParseProxy(in, &h, nil)
	want := ProxyHeader{Version: 2, Command: ProxyLocal, Family: ProxyINET, Transport: ProxyStream}
	if err != nil || n != len(in) || !h.Equal(&want) || h.HasAddrs() {
		t.Fatalf("ParseProxy = %d, %v, %+v; want %d, nil, %+v", n, err, h, len(in), want)
	}
}

// TestParseProxyMalformed names each malformed form and the error it gets.
func TestParseProxyMalformed(t *testing.T) {
	inet := proxyInet4Body()
	withTLVs := func(tlvs ...byte) []byte { return proxyRawV2(0x21, 0x11, -1, append(proxyInet4Body(), tlvs...)) }
	crcHeader := proxyMustV2(t, &ProxyHeader{Version: 2, Command: ProxyProxy, Family: ProxyINET, Transport: ProxyStream,
		Source: netip.MustParseAddrPort("1.2.3.4:5"), Destination: netip.MustParseAddrPort("5.6.7.8:9"),
		RawTLVs: AppendProxyTLV(nil, ProxyTLVCRC32C, make([]byte, 4))})
	crcHeader[len(crcHeader)-1] ^= 1
	tests := []struct {
		name string
		in   []byte
		lim  *ProxyLimits
		want error
	}{
		{"no header: HTTP", []byte("GET / HTTP/1.1\r\n"), nil, ErrProxySignature},
		{"no header: one byte", []byte("G"), nil, ErrProxySignature},
		{"v1 wrong signature", []byte("PROXZ TCP4"), nil, ErrProxySignature},
		{"v1 lower case", []byte("proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n"), nil, ErrProxySignature},
		{"v2 wrong signature", []byte("\r\n\r\n\x00\r\nQUIT!"), nil, ErrProxySignature},
		{"v2 signature of CRLF CRLF only", []byte("\r\n\r\nGET"), nil, ErrProxySignature},
		{"v1 line over 107 bytes", []byte("PROXY UNKNOWN " + strings.Repeat("x", 93)), nil, errProxyTooLarge},
		{"v1 line of 108 bytes with CRLF", []byte("PROXY UNKNOWN " + strings.Repeat("x", 92) + "\r\n"), nil, errProxyTooLarge},
		{"v1 bare LF", []byte("PROXY UNKNOWN\n"), nil, ErrProxyLine},
		{"v1 CR without LF", []byte("PROXY UNKNOWN\rx"), nil, ErrProxyLine},
		{"v1 CR inside UNKNOWN", []byte("PROXY UNKNOWN a\rb\r\n"), nil, ErrProxyLine},
		{"v1 protocol TCP5", proxyV1("TCP5", "1.2.3.4", "5.6.7.8", "1", "2"), nil, ErrProxyFamily},
		{"v1 protocol lower case", proxyV1("tcp4", "1.2.3.4", "5.6.7.8", "1", "2"), nil, ErrProxyFamily},
		{"v1 protocol UDP4", proxyV1("UDP4", "1.2.3.4", "5.6.7.8", "1", "2"), nil, ErrProxyFamily},
		{"v1 empty", []byte("PROXY \r\n"), nil, ErrProxyFamily},
		{"v1 protocol only", proxyV1("TCP4"), nil, ErrProxyFields},
		{"v1 5 fields", proxyV1("TCP4", "1.2.3.4", "5.6.7.8", "1"), nil, ErrProxyFields},
		{"v1 7 fields", proxyV1("TCP4", "1.2.3.4", "5.6.7.8", "1", "2", "3"), nil, ErrProxyFields},
		{"v1 trailing space", proxyV1("TCP4", "1.2.3.4", "5.6.7.8", "1", "2 "), nil, ErrProxyFields},
		{"v1 double space", proxyV1("TCP4", "1.2.3.4", "", "5.6.7.8", "1"), nil, ErrProxyAddress},
		{"v1 octet of 256", proxyV1("TCP4", "1.2.3.256", "5.6.7.8", "1", "2"), nil, ErrProxyAddress},
		{"v1 octet with leading zero", proxyV1("TCP4", "1.2.3.04", "5.6.7.8", "1", "2"), nil, ErrProxyAddress},
		{"v1 three octets", proxyV1("TCP4", "1.2.3", "5.6.7.8", "1", "2"), nil, ErrProxyAddress},
		{"v1 five octets", proxyV1("TCP4", "1.2.3.4.5", "5.6.7.8", "1", "2"), nil, ErrProxyAddress},
		{"v1 host name", proxyV1("TCP4", "localhost", "5.6.7.8", "1", "2"), nil, ErrProxyAddress},
		{"v1 IPv6 zone", proxyV1("TCP6", "fe80::1%eth0", "::1", "1", "2"), nil, ErrProxyAddress},
		{"v1 IPv6 garbage", proxyV1("TCP6", "1:::2", "::1", "1", "2"), nil, ErrProxyAddress},
		{"v1 IPv6 after TCP4", proxyV1("TCP4", "::1", "5.6.7.8", "1", "2"), nil, ErrProxyAddressFamily},
		{"v1 IPv4 after TCP6", proxyV1("TCP6", "::1", "5.6.7.8", "1", "2"), nil, ErrProxyAddressFamily},
		{"v1 port 456789", proxyV1("TCP4", "1.2.3.4", "5.6.7.8", "456789", "2"), nil, ErrProxyPort},
		{"v1 port 65536", proxyV1("TCP4", "1.2.3.4", "5.6.7.8", "1", "65536"), nil, ErrProxyPort},
		{"v1 port with leading zero", proxyV1("TCP4", "1.2.3.4", "5.6.7.8", "080", "2"), nil, ErrProxyPort},
		{"v1 port with sign", proxyV1("TCP4", "1.2.3.4", "5.6.7.8", "+80", "2"), nil, ErrProxyPort},
		{"v1 port hex", proxyV1("TCP4", "1.2.3.4", "5.6.7.8", "0x50", "2"), nil, ErrProxyPort},
		{"v2 version 1", proxyRawV2(0x11, 0x11, -1, inet), nil, ErrProxyVersion},
		{"v2 version 3", proxyRawV2(0x31, 0x11, -1, inet), nil, ErrProxyVersion},
		{"v2 command 2", proxyRawV2(0x22, 0x11, -1, inet), nil, ErrProxyCommand},
		{"v2 family 4", proxyRawV2(0x21, 0x41, -1, inet), nil, ErrProxyFamily},
		{"v2 transport 3", proxyRawV2(0x21, 0x13, -1, inet), nil, ErrProxyFamily},
		{"v2 INET with UNSPEC transport", proxyRawV2(0x21, 0x10, -1, inet), nil, ErrProxyFamily},
		{"v2 UNSPEC with STREAM", proxyRawV2(0x21, 0x01, -1, nil), nil, ErrProxyFamily},
		{"v2 INET block of 11 bytes", proxyRawV2(0x21, 0x11, -1, inet[:11]), nil, ErrProxyTruncated},
		{"v2 INET6 block of 12 bytes", proxyRawV2(0x21, 0x21, -1, inet), nil, ErrProxyTruncated},
		{"v2 UNIX block of 215 bytes", proxyRawV2(0x21, 0x31, -1, make([]byte, 215)), nil, ErrProxyTruncated},
		{"v2 length past the configured max", proxyRawV2(0x21, 0x11, 1000, nil), &ProxyLimits{MaxV2Length: 512}, errProxyTooLarge},
		{"v2 TLV past the end", withTLVs(0x01, 0x00, 0x05, 'h', '2'), nil, ErrProxyTLV},
		{"v2 TLV header cut", withTLVs(0x01, 0x00), nil, ErrProxyTLV},
		{"v2 CRC32C of 3 bytes", withTLVs(0x03, 0x00, 0x03, 1, 2, 3), nil, ErrProxyTLV},
		{"v2 CRC32C mismatch", crcHeader, nil, ErrProxyChecksum},
		{"v2 unique ID of 129 bytes", withTLVs(append([]byte{0x05, 0x00, 129}, make([]byte, 129)...)...), nil, ErrProxyUniqueID},
		{"v2 SSL of 4 bytes", withTLVs(0x20, 0x00, 0x04, 1, 0, 0, 0), nil, ErrProxySSL},
		{"v2 SSL sub-TLV past the end", withTLVs(0x20, 0x00, 0x08, 1, 0, 0, 0, 0, 0x21, 0x00, 0x09), nil, ErrProxySSL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			var h ProxyHeader
			n, err := ParseProxy(in, &h, tt.lim)
			if n != 0 || !proxyErrorIs(err, tt.want) {
				t.Fatalf("ParseProxy(%q) = %d, %v; want 0, %v", in, n, err, tt.want)
			}
			if tt.want != errProxyTooLarge && !errors.Is(err, ErrCorrupt) {
				t.Errorf("error %v does not match ErrCorrupt", err)
			}
			if !h.Equal(&ProxyHeader{}) {
				t.Errorf("ParseProxy left %+v in h after an error", h)
			}
		})
	}
}

// TestParseProxyPrefixes checks that every prefix of a valid header asks
// for more input, never an error: a header that arrives a byte at a time
// is accepted.
func TestParseProxyPrefixes(t *testing.T) {
	inputs := [][]byte{
		proxyV1("TCP4", "192.0.2.1", "198.51.100.7", "56324", "443"),
		proxyV1("TCP6", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "65535", "65535"),
		proxyV1("UNKNOWN"),
		proxyMustV2(t, proxyTypicalHeader()),
	}
	for _, in := range inputs {
		var h ProxyHeader
		for i := range len(in) {
			if n, err := ParseProxy(in[:i], &h, nil); n != 0 || err != nil {
				t.Fatalf("ParseProxy(%q) = %d, %v; want 0, nil", in[:i], n, err)
			}
		}
		if n, err := ParseProxy(in, &h, nil); n != len(in) || err != nil {
			t.Fatalf("ParseProxy(%q) = %d, %v; want %d, nil", in, n, err, len(in))
		}
	}
}

// TestParseProxyEarlyRejection checks that the bounds are enforced on the
// bytes seen, without waiting for the declared size.
func TestParseProxyEarlyRejection(t *testing.T) {
	var h ProxyHeader
	long := []byte("PROXY TCP4 " + strings.Repeat("1", ProxyMaxV1))
	if _, err := ParseProxy(long[:ProxyMaxV1-1], &h, nil); err != nil {
		t.Fatalf("106 bytes of a v1 line: %v, want a request for more", err)
	}
	_, err := ParseProxy(long[:ProxyMaxV1], &h, nil)
	var tl *FrameTooLargeError
	if !errors.As(err, &tl) || tl.Max != ProxyMaxV1 {
		t.Fatalf("107 bytes without CRLF: %v, want a *FrameTooLargeError with Max 107", err)
	}
	fixed := proxyRawV2(0x21, 0x11, 0xFFFF, nil)
	_, err = ParseProxy(fixed, &h, &ProxyLimits{MaxV2Length: 100})
	if !errors.As(err, &tl) || tl.Size != ProxyMaxV2 || tl.Max != ProxyV2Fixed+100 {
		t.Fatalf("v2 declaring 65535 over a limit of 100: %v, want a *FrameTooLargeError", err)
	}
	if n, err := ParseProxy(fixed, &h, nil); n != 0 || err != nil {
		t.Fatalf("v2 declaring 65535 with no limit: %d, %v; want 0, nil", n, err)
	}
}

func TestDecodeProxy(t *testing.T) {
	src := &Bytes{B: []byte("PROXY TCP4 192.0.2.1 198.51.100.7 56324 443\r\nGET /")}
	var h ProxyHeader
	ok, err := DecodeProxy(src, &h, nil)
	if !ok || err != nil || string(src.B) != "GET /" || h.Source.String() != "192.0.2.1:56324" {
		t.Fatalf("DecodeProxy = %v, %v, left %q, source %v", ok, err, src.B, h.Source)
	}
	// It never peeks past the bound, so a header followed by megabytes
	// parses the same.
	big := append(proxyMustV2(t, proxyTypicalHeader()), make([]byte, 1<<20)...)
	src = &Bytes{B: big}
	if ok, err := DecodeProxy(src, &h, nil); !ok || err != nil || len(src.B) != 1<<20 {
		t.Fatalf("DecodeProxy before 1 MiB = %v, %v, left %d", ok, err, len(src.B))
	}
	src = &Bytes{B: []byte("PROXY TCP4 1.2")}
	if ok, err := DecodeProxy(src, &h, nil); ok || err != nil || len(src.B) != 14 {
		t.Fatalf("DecodeProxy of a prefix = %v, %v, left %d", ok, err, len(src.B))
	}
}

func TestAppendProxyRefuses(t *testing.T) {
	ap := netip.MustParseAddrPort
	tests := []struct {
		name string
		v1   bool
		h    ProxyHeader
		want error
	}{
		{"v1 LOCAL", true, ProxyHeader{Command: ProxyLocal}, ErrProxyCommand},
		{"v1 TLVs", true, ProxyHeader{Command: ProxyProxy, RawTLVs: []byte{4, 0, 0}}, ErrProxyTLV},
		{"v1 unix", true, ProxyHeader{Command: ProxyProxy, Family: ProxyUnix, Transport: ProxyStream}, ErrProxyFamily},
		{"v1 datagram", true, ProxyHeader{Command: ProxyProxy, Family: ProxyINET, Transport: ProxyDatagram,
			Source: ap("1.2.3.4:1"), Destination: ap("1.2.3.4:2")}, ErrProxyFamily},
		{"v1 IPv6 in TCP4", true, ProxyHeader{Command: ProxyProxy, Family: ProxyINET, Transport: ProxyStream,
			Source: ap("[::1]:1"), Destination: ap("1.2.3.4:2")}, ErrProxyAddressFamily},
		{"v2 IPv4 in INET6", false, ProxyHeader{Command: ProxyProxy, Family: ProxyINET6, Transport: ProxyStream,
			Source: ap("[::1]:1"), Destination: ap("1.2.3.4:2")}, ErrProxyAddressFamily},
		{"v2 no address", false, ProxyHeader{Command: ProxyProxy, Family: ProxyINET, Transport: ProxyStream}, ErrProxyAddress},
		{"v2 zone", false, ProxyHeader{Command: ProxyProxy, Family: ProxyINET6, Transport: ProxyStream,
			Source: ap("[fe80::1%eth0]:1"), Destination: ap("[::1]:2")}, ErrProxyAddress},
		{"v2 unix path of 109 bytes", false, ProxyHeader{Command: ProxyProxy, Family: ProxyUnix, Transport: ProxyStream,
			SourceUnix: make([]byte, 109)}, ErrProxyAddress},
		{"v2 command 2", false, ProxyHeader{Command: 2}, ErrProxyCommand},
		{"v2 UNSPEC with STREAM", false, ProxyHeader{Command: ProxyProxy, Transport: ProxyStream}, ErrProxyFamily},
		{"v2 bad TLV", false, ProxyHeader{Command: ProxyProxy, RawTLVs: []byte{4, 0, 9}}, ErrProxyTLV},
		{"v2 long unique ID", false, ProxyHeader{Command: ProxyProxy,
			RawTLVs: AppendProxyTLV(nil, ProxyTLVUniqueID, make([]byte, 129))}, ErrProxyUniqueID},
		{"v2 over 65535", false, ProxyHeader{Command: ProxyProxy,
			RawTLVs: AppendProxyTLV(AppendProxyTLV(nil, 0xE0, make([]byte, 40000)), 0xE1, make([]byte, 40000))}, errProxyTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := []byte("keep")
			var got []byte
			var err error
			if tt.v1 {
				got, err = AppendProxyV1(dst, &tt.h)
			} else {
				got, err = AppendProxyV2(dst, &tt.h)
			}
			if !proxyErrorIs(err, tt.want) || string(got) != "keep" {
				t.Fatalf("got %q, %v; want \"keep\", %v", got, err, tt.want)
			}
		})
	}
}
