package codec_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/pinion-net/pinion/codec"
)

// httpResp builds a response head from its status line and field lines,
// each without CRLF, followed by body.
func httpResp(status string, fields []string, body string) string {
	return status + "\r\n" + strings.Join(append(fields, ""), "\r\n") + "\r\n" + body
}

// respOutcome is what ParseResponse makes of b, as one string to compare.
func respOutcome(b []byte, head bool, lim *codec.HTTPLimits) string {
	var r codec.Response
	parse := codec.ParseResponse
	if head {
		parse = codec.ParseHeadResponse
	}
	n, err := parse(b, &r, lim)
	switch {
	case err != nil:
		return "error: " + err.Error()
	case n == 0:
		return "incomplete"
	}
	return fmt.Sprintf("n=%d HTTP/%d.%d %d %q cl=%d body=%q keep=%v fields=%d",
		n, r.Major, r.Minor, r.Status, r.Reason, r.ContentLength, r.Body, r.KeepAlive, len(r.Headers))
}

// TestParseResponse checks well-formed responses field by field.
func TestParseResponse(t *testing.T) {
	hello := httpResp("HTTP/1.1 200 OK", []string{"Server: pinion", "Content-Length: 13"}, "Hello, World!")
	for _, tc := range []struct {
		name string
		in   string
		rest string // what follows the response in in
		head bool
		want string // after "n=<len(in)-len(rest)> "
	}{
		{"content-length", hello, "", false, `HTTP/1.1 200 "OK" cl=13 body="Hello, World!" keep=true fields=2`},
		{"pipelined: the first only", hello + hello, hello, false, `HTTP/1.1 200 "OK" cl=13 body="Hello, World!" keep=true fields=2`},
		{"empty reason", httpResp("HTTP/1.1 404 ", []string{"Content-Length: 0"}, ""), "", false, `HTTP/1.1 404 "" cl=0 body="" keep=true fields=1`},
		{"reason with tab and obs-text", httpResp("HTTP/1.1 200 A\tb\xe9", []string{"Content-Length: 0"}, ""), "", false, `HTTP/1.1 200 "A\tb\xe9" cl=0 body="" keep=true fields=1`},
		{"close", httpResp("HTTP/1.1 200 OK", []string{"Connection: keep-alive, Close", "Content-Length: 1"}, "x"), "", false, `HTTP/1.1 200 "OK" cl=1 body="x" keep=false fields=2`},
		{"1.0 closes", httpResp("HTTP/1.0 200 OK", []string{"Content-Length: 1"}, "x"), "", false, `HTTP/1.0 200 "OK" cl=1 body="x" keep=false fields=1`},
		{"1.0 keep-alive", httpResp("HTTP/1.0 200 OK", []string{"Connection: keep-alive", "Content-Length: 1"}, "x"), "", false, `HTTP/1.0 200 "OK" cl=1 body="x" keep=true fields=2`},
		{"204 has no body", httpResp("HTTP/1.1 204 No Content", nil, "NEXT"), "NEXT", false, `HTTP/1.1 204 "No Content" cl=-1 body="" keep=true fields=0`},
		{"304 ignores its length", httpResp("HTTP/1.1 304 Not Modified", []string{"Content-Length: 99"}, ""), "", false, `HTTP/1.1 304 "Not Modified" cl=99 body="" keep=true fields=1`},
		{"100 continue", "HTTP/1.1 100 Continue\r\n\r\n" + hello, hello, false, `HTTP/1.1 100 "Continue" cl=-1 body="" keep=true fields=0`},
		{"HEAD ignores the length", httpResp("HTTP/1.1 200 OK", []string{"Content-Length: 13"}, ""), "", true, `HTTP/1.1 200 "OK" cl=13 body="" keep=true fields=1`},
		{"equal lengths", httpResp("HTTP/1.1 200 OK", []string{"Content-Length: 2, 2", "content-length: 02"}, "hi"), "", false, `HTTP/1.1 200 "OK" cl=2 body="hi" keep=true fields=2`},
		{"OWS trimmed", httpResp("HTTP/1.1 200 OK", []string{"X-A: \t v \t", "Content-Length:0"}, ""), "", false, `HTTP/1.1 200 "OK" cl=0 body="" keep=true fields=2`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := fmt.Sprintf("n=%d %s", len(tc.in)-len(tc.rest), tc.want)
			if got := respOutcome([]byte(tc.in), tc.head, nil); got != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
}

// TestParseResponseRefuses checks malformed and unsupported responses:
// each is refused with the reason given, and the status that classes it.
func TestParseResponseRefuses(t *testing.T) {
	small := &codec.HTTPLimits{MaxHeaderBytes: 64, MaxHeaders: 2, MaxBody: 10}
	ok := "HTTP/1.1 200 OK\r\n"
	for _, tc := range []struct {
		name   string
		in     string
		lim    *codec.HTTPLimits
		status int
		reason string
	}{
		{"not HTTP", "SSH-2.0-OpenSSH\r\n", nil, 400, "malformed status line"},
		{"lower-case name", "http/1.1 200 OK\r\n\r\n", nil, 400, "malformed status line"},
		{"no space after the code", "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", nil, 400, "malformed status line"},
		{"two spaces", "HTTP/1.1  200 OK\r\n", nil, 400, "malformed status line"},
		{"two-digit code", "HTTP/1.1 20 OK\r\n", nil, 400, "malformed status line"},
		{"code 600", "HTTP/1.1 600 X\r\n", nil, 400, "status code out of range"},
		{"code 099", "HTTP/1.1 099 X\r\n", nil, 400, "status code out of range"},
		{"HTTP/2.0", "HTTP/2.0 200 OK\r\n", nil, 505, "only HTTP/1.0 and HTTP/1.1 are supported"},
		{"HTTP/1.2", "HTTP/1.2 200 OK\r\n", nil, 505, "only HTTP/1.0 and HTTP/1.1 are supported"},
		{"control byte in reason", "HTTP/1.1 200 O\x01K\r\n", nil, 400, "malformed status line"},
		{"bare LF ends the status line", "HTTP/1.1 200 OK\n\r\n", nil, 400, "line ends with LF without CR"},
		{"CR alone", "HTTP/1.1 200 OK\rX", nil, 400, "CR without LF"},
		{"obs-fold", ok + "X-A: 1\r\n 2\r\n\r\n", nil, 400, "obsolete line folding"},
		{"space before colon", ok + "X-A : 1\r\n\r\n", nil, 400, "whitespace between field name and colon"},
		{"no colon", ok + "X-A\r\n\r\n", nil, 400, "field line without colon"},
		{"bare LF in fields", ok + "X-A: 1\n\r\n", nil, 400, "line ends with LF without CR"},
		{"malformed length", ok + "Content-Length: x\r\n\r\n", nil, 400, "malformed Content-Length"},
		{"negative length", ok + "Content-Length: -1\r\n\r\n", nil, 400, "malformed Content-Length"},
		{"differing lengths", ok + "Content-Length: 1\r\nContent-Length: 2\r\n\r\nxx", nil, 400, "differing Content-Length values"},
		{"chunked", ok + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", nil, 501, "Transfer-Encoding in a response is not supported"},
		{"framed by close", ok + "Server: x\r\n\r\nuntil EOF", nil, 501, "response without Content-Length (framed by the connection's close) is not supported"},
		{"status line over the limit", "HTTP/1.1 200 " + strings.Repeat("a", 60), small, 431, "header section too large"},
		{"header section over the limit", ok + "X-A: " + strings.Repeat("a", 60), small, 431, "header section too large"},
		{"too many fields", ok + "A: 1\r\nB: 2\r\nC: 3\r\n\r\n", small, 431, "too many header fields"},
		{"declared body over the limit", ok + "Content-Length: 11\r\n\r\n", small, 413, "Content-Length over the limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r codec.Response
			n, err := codec.ParseResponse([]byte(tc.in), &r, tc.lim)
			var he *codec.HTTPError
			if !errors.As(err, &he) || he.Status != tc.status || he.Reason != tc.reason || n != 0 {
				t.Fatalf("got n=%d, %v; want an *HTTPError %d %q", n, err, tc.status, tc.reason)
			}
			if tc.status == 400 && !errors.Is(err, codec.ErrCorrupt) {
				t.Errorf("%v does not match ErrCorrupt", err)
			}
		})
	}
}

// TestParseResponsePrefixes checks that every prefix of a response is
// either incomplete or gives what the whole gives, refusals included: a
// client may parse as bytes arrive.
func TestParseResponsePrefixes(t *testing.T) {
	lim := &codec.HTTPLimits{MaxHeaderBytes: 128, MaxHeaders: 4, MaxBody: 64}
	for _, in := range []string{
		httpResp("HTTP/1.1 200 OK", []string{"Server: pinion", "Content-Length: 13"}, "Hello, World!"),
		httpResp("HTTP/1.0 304 Not Modified", []string{"Connection: keep-alive"}, ""),
		"HTTP/1.1 200 OK\r\nX-A: 1\r\n 2\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 65\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX: " + strings.Repeat("v", 200),
		"HTTP/1.1 2x0 OK\r\n\r\n",
	} {
		whole := respOutcome([]byte(in), false, lim)
		for k := range len(in) {
			if got := respOutcome([]byte(in[:k]), false, lim); got != "incomplete" && got != whole {
				t.Errorf("%q: prefix of %d bytes gives %s, the whole %s", in, k, got, whole)
			}
		}
	}
}

// TestParseResponseAllocs checks that parsing into a reused Response
// allocates nothing, refusals included.
func TestParseResponseAllocs(t *testing.T) {
	good := []byte(httpResp("HTTP/1.1 200 OK", []string{"Server: pinion", "Date: x", "Content-Type: text/plain", "Content-Length: 13"}, "Hello, World!"))
	bad := []byte("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n")
	var r codec.Response
	if n, err := codec.ParseResponse(good, &r, nil); n != len(good) || err != nil {
		t.Fatalf("ParseResponse = %d, %v; want %d, nil", n, err, len(good))
	}
	allocs := testing.AllocsPerRun(100, func() {
		_, _ = codec.ParseResponse(good, &r, nil)
		_, _ = codec.ParseResponse(good[:40], &r, nil)
		_, _ = codec.ParseResponse(bad, &r, nil)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per run, want 0", allocs)
	}
}

// BenchmarkParseResponse parses a small pipelined response, as a load
// generator reads them.
func BenchmarkParseResponse(b *testing.B) {
	in := []byte(httpResp("HTTP/1.1 200 OK", []string{"Server: pinion", "Date: Sun, 06 Nov 1994 08:49:37 GMT", "Content-Type: text/plain", "Content-Length: 13"}, "Hello, World!"))
	var r codec.Response
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if n, err := codec.ParseResponse(in, &r, nil); n != len(in) || err != nil {
			b.Fatalf("ParseResponse = %d, %v", n, err)
		}
	}
}
