package codec_test

import (
	"fmt"
	"time"

	"github.com/pinion-net/pinion/codec"
)

// ExampleParseRequest parses two pipelined requests from one buffer into
// one reused Request and answers each.
func ExampleParseRequest() {
	in := []byte("GET /plaintext HTTP/1.1\r\nHost: example.com\r\n\r\n" +
		"POST /echo HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
	var (
		r     codec.Request
		dates codec.DateCache
		out   []byte
		now   = time.Date(2025, time.March, 14, 15, 9, 26, 0, time.UTC)
	)
	for len(in) > 0 {
		n, err := codec.ParseRequest(in, &r, nil)
		if err != nil {
			fmt.Println("refused:", err)
			return
		}
		if n == 0 {
			break // wait for more input
		}
		host, _ := r.Header("host")
		fmt.Printf("%s %s host=%s body=%q keep-alive=%v\n", r.Method, r.Target, host, r.Body, r.KeepAlive)
		out = codec.AppendResponse(out[:0], 200, "text/plain", []byte("ok"), r.KeepAlive, "pinion", &dates, now)
		fmt.Printf("%q\n", out)
		in = in[n:]
	}
	// Output:
	// GET /plaintext host=example.com body="" keep-alive=true
	// "HTTP/1.1 200 OK\r\nServer: pinion\r\nDate: Fri, 14 Mar 2025 15:09:26 GMT\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"
	// POST /echo host=example.com body="hello" keep-alive=false
	// "HTTP/1.1 200 OK\r\nServer: pinion\r\nDate: Fri, 14 Mar 2025 15:09:26 GMT\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
}
