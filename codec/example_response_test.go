package codec_test

import (
	"fmt"

	"github.com/pinion-net/pinion/codec"
)

// A client reads pipelined responses as they arrive: ParseResponse reports
// 0 until a response is whole, and each one's length after.
func ExampleParseResponse() {
	in := []byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello" +
		"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n" +
		"HTTP/1.1 200 O")
	var r codec.Response // reused: after the first response, parsing allocates nothing
	for len(in) > 0 {
		n, err := codec.ParseResponse(in, &r, nil)
		if err != nil {
			fmt.Println("bad response:", err)
			return
		}
		if n == 0 {
			fmt.Printf("incomplete: %d bytes so far\n", len(in))
			return
		}
		fmt.Printf("%d %s, body %q, keep-alive %v\n", r.Status, r.Reason, r.Body, r.KeepAlive)
		in = in[n:]
	}
	// Output:
	// 200 OK, body "hello", keep-alive true
	// 404 Not Found, body "", keep-alive false
	// incomplete: 14 bytes so far
}
