package codec_test

import (
	"fmt"
	"net/netip"

	"github.com/pinion-net/pinion/codec"
)

func ExampleParseProxy() {
	// A load balancer writes a version 2 header with ALPN and a checksum
	// before the client's first bytes.
	h := codec.ProxyHeader{
		Command:     codec.ProxyProxy,
		Family:      codec.ProxyINET,
		Transport:   codec.ProxyStream,
		Source:      netip.MustParseAddrPort("203.0.113.9:51000"),
		Destination: netip.MustParseAddrPort("192.0.2.10:443"),
	}
	h.RawTLVs = codec.AppendProxyTLV(h.RawTLVs, codec.ProxyTLVALPN, []byte("http/1.1"))
	h.RawTLVs = codec.AppendProxyTLV(h.RawTLVs, codec.ProxyTLVCRC32C, make([]byte, 4))
	in, err := codec.AppendProxyV2(nil, &h)
	if err != nil {
		panic(err)
	}
	in = append(in, "GET / HTTP/1.1\r\n"...)

	// The server parses it; the first parse sees only part of the header.
	var got codec.ProxyHeader
	n, err := codec.ParseProxy(in[:20], &got, nil)
	fmt.Println("first 20 bytes:", n, err)
	n, err = codec.ParseProxy(in, &got, nil)
	fmt.Println("whole:", n, err)
	fmt.Println("client", got.Source, "ALPN", string(got.ALPN()))
	fmt.Printf("then %q\n", in[n:])

	// Anything else is refused at its first byte.
	_, err = codec.ParseProxy([]byte("GET / HTTP/1.1\r\n"), &got, nil)
	fmt.Println(err)
	// Output:
	// first 20 bytes: 0 <nil>
	// whole: 46 <nil>
	// client 203.0.113.9:51000 ALPN http/1.1
	// then "GET / HTTP/1.1\r\n"
	// codec: PROXY header: wrong signature: first byte 0x47
}
