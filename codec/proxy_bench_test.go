package codec

import "testing"

// BenchmarkParseProxy measures the parse of the headers a server sees: a
// v2 header as a TLS-terminating proxy sends it (addresses, ALPN,
// authority, unique ID, SSL with three sub-TLVs, NOOP, an application TLV
// and a CRC32C, 144 bytes), a bare v2 TCP4 header and v1 lines.
func BenchmarkParseProxy(b *testing.B) {
	inputs := []struct {
		name string
		in   []byte
	}{
		{"v2-typical", proxyMustV2(b, proxyTypicalHeader())},
		{"v2-tcp4", proxyRawV2(0x21, 0x11, -1, proxyInet4Body())},
		{"v1-tcp4", proxyV1("TCP4", "192.0.2.1", "198.51.100.7", "56324", "443")},
		{"v1-tcp6", proxyV1("TCP6", "2001:db8::1", "2001:db8::2", "56324", "443")},
	}
	for _, in := range inputs {
		b.Run(in.name, func(b *testing.B) {
			var h ProxyHeader
			b.SetBytes(int64(len(in.in)))
			b.ReportAllocs()
			for b.Loop() {
				if n, err := ParseProxy(in.in, &h, nil); n != len(in.in) || err != nil {
					b.Fatalf("ParseProxy = %d, %v", n, err)
				}
			}
		})
	}
}
