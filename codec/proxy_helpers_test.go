package codec

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"strings"
	"testing"
)

// proxyRawV2 builds a version 2 header by hand: signature, the version and
// command byte, the family and transport byte, a length that is len(body)
// unless length >= 0 says otherwise, and body.
func proxyRawV2(verCmd, famTr byte, length int, body []byte) []byte {
	b := append([]byte(proxyV2Sig), verCmd, famTr, 0, 0)
	if length < 0 {
		length = len(body)
	}
	binary.BigEndian.PutUint16(b[14:], uint16(length))
	return append(b, body...)
}

// proxyInet4Body is an AF_INET address block: 192.0.2.1:56324 to
// 198.51.100.7:443.
func proxyInet4Body() []byte {
	return []byte{192, 0, 2, 1, 198, 51, 100, 7, 0xDC, 0x04, 0x01, 0xBB}
}

// proxyTypicalTLVs is what a TLS-terminating proxy sends: ALPN, authority,
// a unique ID, an SSL TLV with sub-TLVs, a NOOP, an application TLV and a
// CRC32C to be filled by AppendProxyV2.
func proxyTypicalTLVs() []byte {
	var t []byte
	t = AppendProxyTLV(t, ProxyTLVALPN, []byte("h2"))
	t = AppendProxyTLV(t, ProxyTLVAuthority, []byte("example.com"))
	t = AppendProxyTLV(t, ProxyTLVUniqueID, []byte("conn-0123456789"))
	var sub []byte
	sub = AppendProxyTLV(sub, ProxySSLVersion, []byte("TLSv1.3"))
	sub = AppendProxyTLV(sub, ProxySSLCipher, []byte("TLS_AES_128_GCM_SHA256"))
	sub = AppendProxyTLV(sub, ProxySSLCN, []byte("client.example"))
	t = AppendProxySSL(t, ProxySSLClientSSL|ProxySSLClientCertConn, 0, sub)
	t = AppendProxyTLV(t, ProxyTLVNoop, make([]byte, 3))
	t = AppendProxyTLV(t, 0xE0, []byte("app"))
	return AppendProxyTLV(t, ProxyTLVCRC32C, make([]byte, 4))
}

// proxyTypicalHeader is a PROXY TCP4 header with proxyTypicalTLVs.
func proxyTypicalHeader() *ProxyHeader {
	return &ProxyHeader{
		Version:     2,
		Command:     ProxyProxy,
		Family:      ProxyINET,
		Transport:   ProxyStream,
		Source:      netip.MustParseAddrPort("192.0.2.1:56324"),
		Destination: netip.MustParseAddrPort("198.51.100.7:443"),
		RawTLVs:     proxyTypicalTLVs(),
	}
}

// proxyMustV2 encodes h or fails the test.
func proxyMustV2(t testing.TB, h *ProxyHeader) []byte {
	t.Helper()
	b, err := AppendProxyV2(nil, h)
	if err != nil {
		t.Fatalf("AppendProxyV2(%+v): %v", h, err)
	}
	return b
}

// proxyErrorIs reports whether err is want: a sentinel matched with
// errors.Is, or, for want == errProxyTooLarge, a *FrameTooLargeError.
func proxyErrorIs(err, want error) bool {
	if want == errProxyTooLarge {
		var tl *FrameTooLargeError
		return errors.As(err, &tl)
	}
	return errors.Is(err, want)
}

// errProxyTooLarge stands for a *FrameTooLargeError in the tables.
var errProxyTooLarge = errors.New("*FrameTooLargeError")

// proxyV1 returns a version 1 line with CRLF.
func proxyV1(fields ...string) []byte {
	return []byte("PROXY " + strings.Join(fields, " ") + "\r\n")
}
