package codec_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/pinion-net/pinion/codec"
)

// httpReject is a request ParseRequest must refuse with status.
type httpReject struct {
	name   string
	in     string
	status int
	lim    *codec.HTTPLimits
}

// httpRunRejects checks each case's status, and that its reason is set.
func httpRunRejects(t *testing.T, cases []httpReject) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var r codec.Request
			n, err := codec.ParseRequest([]byte(c.in), &r, c.lim)
			if got := httpStatus(err); got != c.status || n != 0 {
				t.Fatalf("ParseRequest(%.80q) = %d, %v; want status %d", c.in, n, err, c.status)
			}
			var he *codec.HTTPError
			errors.As(err, &he)
			if he.Reason == "" {
				t.Errorf("empty Reason")
			}
			if errors.Is(err, codec.ErrCorrupt) != (c.status == 400) {
				t.Errorf("errors.Is(%v, ErrCorrupt) = %v for status %d", err, !(c.status == 400), c.status)
			}
		})
	}
}

// TestParseRequestLineRejects covers the request line (RFC 9112 §3).
func TestParseRequestLineRejects(t *testing.T) {
	host := "\r\nHost: a\r\n\r\n"
	httpRunRejects(t, []httpReject{
		{"two SP after method", "GET  / HTTP/1.1" + host, 400, nil},
		{"two SP before version", "GET /  HTTP/1.1" + host, 400, nil},
		{"SP before method", " GET / HTTP/1.1" + host, 400, nil},
		{"HTAB as separator", "GET\t/ HTTP/1.1" + host, 400, nil},
		{"trailing SP", "GET / HTTP/1.1 " + host, 400, nil},
		{"method not a token", "G(T / HTTP/1.1" + host, 400, nil},
		{"no target", "GET HTTP/1.1" + host, 400, nil},
		{"no version", "GET /" + host, 400, nil},
		{"lower-case version", "GET / http/1.1" + host, 400, nil},
		{"version without minor", "GET / HTTP/1" + host, 400, nil},
		{"two-digit minor", "GET / HTTP/1.10" + host, 400, nil},
		{"leading zero", "GET / HTTP/01.1" + host, 400, nil},
		{"HTTP/1.2", "GET / HTTP/1.2" + host, 505, nil},
		{"HTTP/2.0", "GET / HTTP/2.0" + host, 505, nil},
		{"HTTP/0.9", "GET / HTTP/0.9" + host, 505, nil},
		{"CTL in target", "GET /a\x01b HTTP/1.1" + host, 400, nil},
		{"DEL in target", "GET /a\x7f HTTP/1.1" + host, 400, nil},
		// RFC 9112 §3.2: a target is a URI, which is ASCII (RFC 3986 §2).
		{"UTF-8 in target", "GET /caf\xc3\xa9 HTTP/1.1" + host, 400, nil},
		{"0x80 in target", "GET /\x80 HTTP/1.1" + host, 400, nil},
		{"0xff in query", "GET /?q=\xff HTTP/1.1" + host, 400, nil},
		{"obs-text in absolute-form", "GET http://a/\xe9 HTTP/1.1" + host, 400, nil},
		{"bad percent-encoding", "GET /a%zz HTTP/1.1" + host, 400, nil},
		{"truncated percent-encoding", "GET /a% HTTP/1.1" + host, 400, nil},
		{"relative target", "GET index.html HTTP/1.1" + host, 400, nil},
		{"asterisk with GET", "GET * HTTP/1.1" + host, 400, nil},
		{"CONNECT with a path", "CONNECT /x HTTP/1.1" + host, 400, nil},
		{"CONNECT without port", "CONNECT example.com HTTP/1.1" + host, 400, nil},
		{"bare LF after request line", "GET / HTTP/1.1\nHost: a\r\n\r\n", 400, nil},
		{"bare CR in request line", "GET / HTTP/1.1\rX" + host, 400, nil},
		{"empty request line with bare LF", "\nGET / HTTP/1.1" + host, 400, nil},
		{"too many empty lines", strings.Repeat("\r\n", 5) + "GET / HTTP/1.1" + host, 400, nil},
		{"binary", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400, nil},
	})
}

// TestParseRequestFieldRejects covers field lines (RFC 9112 §5) and Host
// (§3.2).
func TestParseRequestFieldRejects(t *testing.T) {
	get := "GET / HTTP/1.1\r\n"
	httpRunRejects(t, []httpReject{
		{"SP before colon", get + "Host : a\r\n\r\n", 400, nil},
		{"HTAB before colon", get + "Host\t: a\r\n\r\n", 400, nil},
		{"SP in name", get + "Host: a\r\nX Y: z\r\n\r\n", 400, nil},
		{"obs-fold", get + "Host: a\r\nX-A: b\r\n c\r\n\r\n", 400, nil},
		{"obs-fold with HTAB", get + "Host: a\r\nX-A: b\r\n\tc\r\n\r\n", 400, nil},
		{"first field line starts with SP", get + " Host: a\r\n\r\n", 400, nil},
		{"no colon", get + "Host: a\r\nX-A\r\n\r\n", 400, nil},
		{"empty name", get + "Host: a\r\n: b\r\n\r\n", 400, nil},
		{"name not a token", get + "Host: a\r\nX(A): b\r\n\r\n", 400, nil},
		{"NUL in value", get + "Host: a\r\nX-A: b\x00c\r\n\r\n", 400, nil},
		{"DEL in value", get + "Host: a\r\nX-A: b\x7f\r\n\r\n", 400, nil},
		{"VT in value", get + "Host: a\r\nX-A: b\vc\r\n\r\n", 400, nil},
		{"bare CR in value", get + "Host: a\r\nX-A: b\rc\r\n\r\n", 400, nil},
		{"CR before CRLF", get + "Host: a\r\nX-A: b\r\r\n\r\n", 400, nil},
		{"bare CR in name", get + "Host: a\r\nX\rA: b\r\n\r\n", 400, nil},
		{"bare LF after field", get + "Host: a\nX-A: b\r\n\r\n", 400, nil},
		{"bare LF ends section", get + "Host: a\r\n\n", 400, nil},
		{"LF LF", "GET / HTTP/1.1\n\n", 400, nil},
		{"missing Host", get + "X-A: b\r\n\r\n", 400, nil},
		{"two Hosts", get + "Host: a\r\nhost: a\r\n\r\n", 400, nil},
		{"two Hosts in HTTP/1.0", "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400, nil},
		{"Host with SP", get + "Host: a b\r\n\r\n", 400, nil},
		{"Host with slash", get + "Host: a/b\r\n\r\n", 400, nil},
		{"Host with userinfo", get + "Host: u@a\r\n\r\n", 400, nil},
		{"Host with bad port", get + "Host: a:8x\r\n\r\n", 400, nil},
		{"Host with bad IP literal", get + "Host: [::g]\r\n\r\n", 400, nil},
		{"Host with unclosed IP literal", get + "Host: [::1\r\n\r\n", 400, nil},
	})
}

// TestParseRequestLimits covers MaxHeaderBytes, MaxHeaders and MaxBody.
func TestParseRequestLimits(t *testing.T) {
	get := "GET / HTTP/1.1\r\nHost: a\r\n"
	many := func(n int) string {
		var s strings.Builder
		for i := range n {
			s.WriteString("X-" + strings.Repeat("a", i%7+1) + ": v\r\n")
		}
		return s.String()
	}
	httpRunRejects(t, []httpReject{
		{"header section over 8 KiB", get + "X-Big: " + strings.Repeat("b", 8<<10) + "\r\n\r\n", 431, nil},
		{"request line over 8 KiB", "GET /" + strings.Repeat("a", 8<<10) + " HTTP/1.1\r\n\r\n", 431, nil},
		{"8 KiB without the end, not waiting", get + "X-Big: " + strings.Repeat("b", 8<<10-len(get)-7), 431, nil},
		{"65 header fields", get + many(64) + "\r\n", 431, nil},
		{"MaxHeaders 2", get + many(2) + "\r\n", 431, &codec.HTTPLimits{MaxHeaders: 2}},
		{"MaxHeaderBytes 32", get + "X-A: 0123456789\r\n\r\n", 431, &codec.HTTPLimits{MaxHeaderBytes: 32}},
		{"empty lines past MaxHeaderBytes", "\r\n\r\n" + get + "\r\n", 431, &codec.HTTPLimits{MaxHeaderBytes: 3}},
		{"empty lines up to MaxHeaderBytes", "\r\n\r\n" + get + "\r\n", 431, &codec.HTTPLimits{MaxHeaderBytes: 4}},
		{"Content-Length over 1 MiB", get + "Content-Length: 1048577\r\n\r\n", 413, nil},
		{"Content-Length of 1 TiB", get + "Content-Length: 1099511627776\r\n\r\n", 413, nil},
		{"Content-Length of 18 digits", get + "Content-Length: 999999999999999999\r\n\r\n", 413, nil},
		{"MaxBody 4", get + "Content-Length: 5\r\n\r\n", 413, &codec.HTTPLimits{MaxBody: 4}},
	})

	// Exactly at the limits is fine.
	lim := &codec.HTTPLimits{MaxHeaderBytes: 64, MaxHeaders: 3}
	at := get + "X-A: " + strings.Repeat("a", 64-len(get)-len("X-A: \r\n\r\n")) + "\r\n\r\n"
	if len(at) != 64 {
		t.Fatalf("test input has %d bytes, want 64", len(at))
	}
	if n, err := codec.ParseRequest([]byte(at), new(codec.Request), lim); n != 64 || err != nil {
		t.Errorf("header section of MaxHeaderBytes: ParseRequest = %d, %v; want 64, nil", n, err)
	}
	// One byte short of the limit without the end of the section waits;
	// the limit itself is refused without waiting.
	if n, err := codec.ParseRequest([]byte(at[:63]), new(codec.Request), lim); n != 0 || err != nil {
		t.Errorf("63 bytes: ParseRequest = %d, %v; want 0, nil", n, err)
	}
	over := []byte(get + "X-A: " + strings.Repeat("a", 64))
	if n, err := codec.ParseRequest(over[:63], new(codec.Request), lim); n != 0 || err != nil {
		t.Errorf("63 bytes of a longer section: ParseRequest = %d, %v; want 0, nil", n, err)
	}
	if _, err := codec.ParseRequest(over[:64], new(codec.Request), lim); httpStatus(err) != 431 {
		t.Errorf("64 bytes without the end: ParseRequest error = %v; want 431", err)
	}
	three := get + "X-A: 1\r\nX-B: 2\r\n\r\n"
	if n, err := codec.ParseRequest([]byte(three), new(codec.Request), lim); n != len(three) || err != nil {
		t.Errorf("MaxHeaders fields: ParseRequest = %d, %v; want %d, nil", n, err, len(three))
	}
	// A declared body over MaxBody is refused before any of it arrives.
	if _, err := codec.ParseRequest([]byte(get+"Content-Length: 2000000\r\n\r\n"), new(codec.Request), nil); httpStatus(err) != 413 {
		t.Errorf("declared body over MaxBody: error = %v, want 413", err)
	}
}

// TestParseRequestFraming covers Content-Length and Transfer-Encoding
// (RFC 9112 §6).
func TestParseRequestFraming(t *testing.T) {
	post := "POST / HTTP/1.1\r\nHost: a\r\n"
	httpRunRejects(t, []httpReject{
		{"CL not digits", post + "Content-Length: abc\r\n\r\n", 400, nil},
		{"CL negative", post + "Content-Length: -1\r\n\r\n", 400, nil},
		{"CL with plus", post + "Content-Length: +5\r\n\r\n", 400, nil},
		{"CL hex", post + "Content-Length: 0x10\r\n\r\n", 400, nil},
		{"CL exponent", post + "Content-Length: 1e3\r\n\r\n", 400, nil},
		{"CL empty", post + "Content-Length:\r\n\r\n", 400, nil},
		{"CL inner SP", post + "Content-Length: 1 2\r\n\r\n", 400, nil},
		{"CL empty element", post + "Content-Length: 5,\r\n\r\n", 400, nil},
		{"CL differing list", post + "Content-Length: 5, 6\r\n\r\n", 400, nil},
		{"CL differing fields", post + "Content-Length: 5\r\nContent-Length: 6\r\n\r\n", 400, nil},
		{"CL of 19 digits", post + "Content-Length: 1000000000000000000\r\n\r\n", 400, nil},
		{"CL of 30 digits", post + "Content-Length: 123456789012345678901234567890\r\n\r\n", 400, nil},
		{"TE and CL", post + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 400, nil},
		{"CL and TE", post + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400, nil},
		{"TE gzip", post + "Transfer-Encoding: gzip\r\n\r\n", 501, nil},
		{"TE unknown", post + "Transfer-Encoding: foo\r\n\r\n", 501, nil},
		{"TE gzip, chunked", post + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501, nil},
		{"TE gzip then chunked fields", post + "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", 501, nil},
		{"TE chunked, gzip", post + "Transfer-Encoding: chunked, gzip\r\n\r\n", 400, nil},
		{"TE chunked then gzip fields", post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n", 400, nil},
		{"TE chunked twice", post + "Transfer-Encoding: chunked, chunked\r\n\r\n", 400, nil},
		{"TE chunked in two fields", post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400, nil},
		{"TE chunked with parameter", post + "Transfer-Encoding: chunked;x=1\r\n\r\n", 400, nil},
		{"TE not a token", post + "Transfer-Encoding: chun ked\r\n\r\n", 400, nil},
		{"TE empty", post + "Transfer-Encoding:\r\n\r\n", 400, nil},
		{"TE in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, nil},
	})
}
