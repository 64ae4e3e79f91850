package codec_test

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pinion-net/pinion/codec"
)

// httpGET is a typical browser-less GET, as load generators send it.
const httpGET = "GET /plaintext HTTP/1.1\r\n" +
	"Host: localhost:8080\r\n" +
	"User-Agent: pinion-load\r\n" +
	"Accept: text/plain\r\n" +
	"Connection: keep-alive\r\n" +
	"\r\n"

// httpChunkedPOST is a chunked request with an extension and trailers.
const httpChunkedPOST = "POST /upload HTTP/1.1\r\n" +
	"Host: example.com\r\n" +
	"Transfer-Encoding: chunked\r\n" +
	"\r\n" +
	"5;name=value\r\nhello\r\n" +
	"7\r\n, world\r\n" +
	"0\r\n" +
	"X-Checksum: 42\r\n" +
	"\r\n"

// httpOutcome describes the result of one ParseRequest call in one
// comparable string: "more" for (0, nil), "<status> <reason>" for a refusal,
// and the request with every field for a success.
func httpOutcome(b []byte, lim *codec.HTTPLimits) string {
	var r codec.Request
	n, err := codec.ParseRequest(b, &r, lim)
	return httpDescribe(n, err, &r)
}

// httpDescribe is httpOutcome for a result already in hand.
func httpDescribe(n int, err error, r *codec.Request) string {
	if err != nil {
		var he *codec.HTTPError
		if !errors.As(err, &he) {
			return "not an *HTTPError: " + err.Error()
		}
		return fmt.Sprintf("%d %s", he.Status, he.Reason)
	}
	if n == 0 {
		return "more"
	}
	return fmt.Sprintf("n=%d %s", n, httpDump(r))
}

// httpDump formats every exported field of r.
func httpDump(r *codec.Request) string {
	var s strings.Builder
	fmt.Fprintf(&s, "%q %q HTTP/%d.%d cl=%d chunked=%v keepalive=%v body=%q headers=[",
		r.Method, r.Target, r.Major, r.Minor, r.ContentLength, r.Chunked, r.KeepAlive, r.Body)
	for _, h := range r.Headers {
		fmt.Fprintf(&s, "%q:%q ", h.Name, h.Value)
	}
	s.WriteString("] trailers=[")
	for _, h := range r.Trailers {
		fmt.Fprintf(&s, "%q:%q ", h.Name, h.Value)
	}
	s.WriteString("]")
	return s.String()
}

// httpStatus returns the Status of err, 0 for nil, -1 for another error.
func httpStatus(err error) int {
	if err == nil {
		return 0
	}
	var he *codec.HTTPError
	if errors.As(err, &he) {
		return he.Status
	}
	return -1
}
