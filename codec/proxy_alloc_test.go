package codec

import "testing"

// TestProxyAllocs checks that parsing allocates nothing on the paths a
// server takes for every connection: a typical v2 header with TLVs and a
// checksum, a v1 TCP4 line, a prefix, and DecodeProxy. A v1 TCP6 line costs
// two allocations (net/netip parses from a string).
func TestProxyAllocs(t *testing.T) {
	v2 := proxyMustV2(t, proxyTypicalHeader())
	v1 := proxyV1("TCP4", "192.0.2.1", "198.51.100.7", "56324", "443")
	v6 := proxyV1("TCP6", "2001:db8::1", "2001:db8::2", "56324", "443")
	var h ProxyHeader
	for _, tt := range []struct {
		name string
		in   []byte
		want float64
	}{
		{"v2 typical", v2, 0},
		{"v2 prefix", v2[:20], 0},
		{"v1 TCP4", v1, 0},
		{"v1 TCP6", v6, 2},
	} {
		if got := testing.AllocsPerRun(100, func() { _, _ = ParseProxy(tt.in, &h, nil) }); got != tt.want {
			t.Errorf("ParseProxy %s: %v allocations per run, want %v", tt.name, got, tt.want)
		}
	}
	src := &Bytes{}
	if got := testing.AllocsPerRun(100, func() {
		src.B = v2
		_, _ = DecodeProxy(src, &h, nil)
	}); got != 0 {
		t.Errorf("DecodeProxy: %v allocations per run, want 0", got)
	}
	if got := testing.AllocsPerRun(100, func() {
		for range h.TLVs() {
		}
		_, _ = h.SSL()
		_ = h.ALPN()
	}); got != 0 {
		t.Errorf("TLV accessors: %v allocations per run, want 0", got)
	}
}
