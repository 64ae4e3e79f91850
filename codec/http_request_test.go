package codec_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/pinion-net/pinion/codec"
)

// httpReq builds a request from its request line and header lines, adding
// the CRLFs: httpReq("GET / HTTP/1.1", "Host: a") is a whole GET.
func httpReq(lines ...string) string {
	return strings.Join(lines, "\r\n") + "\r\n\r\n"
}

// TestParseRequestAccepts checks the fields of requests that parse.
func TestParseRequestAccepts(t *testing.T) {
	type hdr = [2]string
	cases := []struct {
		name      string
		in        string
		method    string
		target    string
		minor     int
		headers   []hdr
		cl        int64
		chunked   bool
		body      string
		trailers  []hdr
		keepAlive bool
		n         int // bytes used; 0 means len(in)
	}{
		{name: "GET", in: httpGET, method: "GET", target: "/plaintext", minor: 1,
			headers: []hdr{{"Host", "localhost:8080"}, {"User-Agent", "pinion-load"},
				{"Accept", "text/plain"}, {"Connection", "keep-alive"}},
			cl: -1, keepAlive: true},
		{name: "POST Content-Length",
			in:     httpReq("POST /form HTTP/1.1", "Host: a", "Content-Length: 5") + "hello",
			method: "POST", target: "/form", minor: 1,
			headers: []hdr{{"Host", "a"}, {"Content-Length", "5"}}, cl: 5, body: "hello", keepAlive: true},
		{name: "Content-Length 0", in: httpReq("POST / HTTP/1.1", "Host: a", "Content-Length: 0"),
			method: "POST", target: "/", minor: 1,
			headers: []hdr{{"Host", "a"}, {"Content-Length", "0"}}, cl: 0, keepAlive: true},
		{name: "body stops at Content-Length",
			in:     httpReq("POST / HTTP/1.1", "Host: a", "Content-Length: 2") + "hiGET",
			method: "POST", target: "/", minor: 1,
			headers: []hdr{{"Host", "a"}, {"Content-Length", "2"}}, cl: 2, body: "hi", keepAlive: true,
			n: len(httpReq("POST / HTTP/1.1", "Host: a", "Content-Length: 2")) + 2},
		{name: "chunked with trailers", in: httpChunkedPOST, method: "POST", target: "/upload", minor: 1,
			headers: []hdr{{"Host", "example.com"}, {"Transfer-Encoding", "chunked"}},
			cl:      -1, chunked: true, body: "hello, world", trailers: []hdr{{"X-Checksum", "42"}}, keepAlive: true},
		{name: "HTTP/1.0 without Host", in: httpReq("GET / HTTP/1.0"), method: "GET", target: "/", minor: 0,
			cl: -1, keepAlive: false},
		{name: "HTTP/1.0 keep-alive", in: httpReq("GET / HTTP/1.0", "Connection: Keep-Alive"),
			method: "GET", target: "/", minor: 0, headers: []hdr{{"Connection", "Keep-Alive"}},
			cl: -1, keepAlive: true},
		{name: "HTTP/1.0 keep-alive and close", in: httpReq("GET / HTTP/1.0", "Connection: keep-alive, close"),
			method: "GET", target: "/", minor: 0, headers: []hdr{{"Connection", "keep-alive, close"}},
			cl: -1, keepAlive: false},
		{name: "HTTP/1.1 close in a list", in: httpReq("GET / HTTP/1.1", "Host: a", "Connection: Upgrade ,\tCLOSE"),
			method: "GET", target: "/", minor: 1, headers: []hdr{{"Host", "a"}, {"Connection", "Upgrade ,\tCLOSE"}},
			cl: -1, keepAlive: false},
		{name: "HTTP/1.1 second Connection field", in: httpReq("GET / HTTP/1.1", "Host: a", "Connection: x", "connection: close"),
			method: "GET", target: "/", minor: 1,
			headers: []hdr{{"Host", "a"}, {"Connection", "x"}, {"connection", "close"}}, cl: -1, keepAlive: false},
		{name: "OWS trimmed, inner kept", in: httpReq("GET / HTTP/1.1", "Host:a", "X-A: \t a  b \t "),
			method: "GET", target: "/", minor: 1, headers: []hdr{{"Host", "a"}, {"X-A", "a  b"}}, cl: -1, keepAlive: true},
		{name: "empty value and obs-text", in: httpReq("GET / HTTP/1.1", "Host: a", "X-E:", "X-U: caf\xc3\xa9"),
			method: "GET", target: "/", minor: 1, headers: []hdr{{"Host", "a"}, {"X-E", ""}, {"X-U", "caf\xc3\xa9"}},
			cl: -1, keepAlive: true},
		{name: "leading empty lines", in: "\r\n\r\n" + httpReq("GET / HTTP/1.1", "Host: a"),
			method: "GET", target: "/", minor: 1, headers: []hdr{{"Host", "a"}}, cl: -1, keepAlive: true},
		{name: "identical Content-Length values", in: httpReq("PUT / HTTP/1.1", "Host: a", "Content-Length: 3, 3", "Content-Length: 003") + "abc",
			method: "PUT", target: "/", minor: 1,
			headers: []hdr{{"Host", "a"}, {"Content-Length", "3, 3"}, {"Content-Length", "003"}}, cl: 3, body: "abc", keepAlive: true},
		{name: "Content-Length at MaxBody", in: httpReq("PUT / HTTP/1.1", "Host: a", "Content-Length: 1048576") + strings.Repeat("x", 1<<20),
			method: "PUT", target: "/", minor: 1, headers: []hdr{{"Host", "a"}, {"Content-Length", "1048576"}},
			cl: 1 << 20, body: strings.Repeat("x", 1<<20), keepAlive: true},
		{name: "Transfer-Encoding in capitals, empty elements", in: httpReq("POST / HTTP/1.1", "Host: a", "Transfer-Encoding: , CHUNKED") + "0\r\n\r\n",
			method: "POST", target: "/", minor: 1, headers: []hdr{{"Host", "a"}, {"Transfer-Encoding", ", CHUNKED"}},
			cl: -1, chunked: true, keepAlive: true},
		{name: "absolute-form", in: httpReq("GET http://example.com/x?y HTTP/1.1", "Host: example.com"),
			method: "GET", target: "http://example.com/x?y", minor: 1, headers: []hdr{{"Host", "example.com"}}, cl: -1, keepAlive: true},
		{name: "authority-form", in: httpReq("CONNECT example.com:443 HTTP/1.1", "Host: example.com:443"),
			method: "CONNECT", target: "example.com:443", minor: 1, headers: []hdr{{"Host", "example.com:443"}}, cl: -1, keepAlive: true},
		{name: "asterisk-form", in: httpReq("OPTIONS * HTTP/1.1", "Host: a"),
			method: "OPTIONS", target: "*", minor: 1, headers: []hdr{{"Host", "a"}}, cl: -1, keepAlive: true},
		{name: "target with percent-encoding", in: httpReq("GET /a%20b/caf%C3%a9?q=%7E HTTP/1.1", "Host: a"),
			method: "GET", target: "/a%20b/caf%C3%a9?q=%7E", minor: 1, headers: []hdr{{"Host", "a"}}, cl: -1, keepAlive: true},
		{name: "Host forms", in: httpReq("GET / HTTP/1.1", "Host: [::1]:8080"),
			method: "GET", target: "/", minor: 1, headers: []hdr{{"Host", "[::1]:8080"}}, cl: -1, keepAlive: true},
		{name: "empty Host", in: httpReq("GET / HTTP/1.1", "Host:"),
			method: "GET", target: "/", minor: 1, headers: []hdr{{"Host", ""}}, cl: -1, keepAlive: true},
		{name: "Host with percent-encoding", in: httpReq("GET / HTTP/1.1", "Host: ex%41mple.com:"),
			method: "GET", target: "/", minor: 1, headers: []hdr{{"Host", "ex%41mple.com:"}}, cl: -1, keepAlive: true},
		{name: "extension method", in: httpReq("M-SEARCH /x HTTP/1.1", "Host: a"),
			method: "M-SEARCH", target: "/x", minor: 1, headers: []hdr{{"Host", "a"}}, cl: -1, keepAlive: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var r codec.Request
			n, err := codec.ParseRequest([]byte(c.in), &r, nil)
			if err != nil {
				t.Fatalf("ParseRequest: %v", err)
			}
			want := c.n
			if want == 0 {
				want = len(c.in)
			}
			if n != want {
				t.Errorf("n = %d, want %d", n, want)
			}
			if string(r.Method) != c.method || string(r.Target) != c.target || r.Major != 1 || r.Minor != c.minor {
				t.Errorf("request line = %q %q %d.%d, want %q %q 1.%d", r.Method, r.Target, r.Major, r.Minor, c.method, c.target, c.minor)
			}
			httpCheckFields(t, "Headers", r.Headers, c.headers)
			httpCheckFields(t, "Trailers", r.Trailers, c.trailers)
			if r.ContentLength != c.cl || r.Chunked != c.chunked || r.KeepAlive != c.keepAlive {
				t.Errorf("ContentLength, Chunked, KeepAlive = %d, %v, %v, want %d, %v, %v",
					r.ContentLength, r.Chunked, r.KeepAlive, c.cl, c.chunked, c.keepAlive)
			}
			if string(r.Body) != c.body {
				t.Errorf("Body = %.40q (%d bytes), want %.40q (%d bytes)", r.Body, len(r.Body), c.body, len(c.body))
			}
			if c.cl < 0 && !c.chunked && r.Body != nil {
				t.Errorf("Body = %q, want nil", r.Body)
			}
		})
	}
}

// httpCheckFields compares fields with want, in order.
func httpCheckFields(t *testing.T, what string, got []codec.Header, want [][2]string) {
	t.Helper()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(got); i++ {
		ok = string(got[i].Name) == want[i][0] && string(got[i].Value) == want[i][1]
	}
	if !ok {
		var g [][2]string
		for _, h := range got {
			g = append(g, [2]string{string(h.Name), string(h.Value)})
		}
		t.Errorf("%s = %q, want %q", what, g, want)
	}
}

// TestParseRequestIncomplete checks that every proper prefix of a request
// waits for more input.
func TestParseRequestIncomplete(t *testing.T) {
	for _, in := range []string{
		httpGET,
		httpChunkedPOST,
		httpReq("POST / HTTP/1.1", "Host: a", "Content-Length: 3") + "abc",
		"\r\n" + httpReq("GET / HTTP/1.0"),
	} {
		for i := range len(in) {
			var r codec.Request
			if n, err := codec.ParseRequest([]byte(in[:i]), &r, nil); n != 0 || err != nil {
				t.Errorf("ParseRequest(%q) = %d, %v; want 0, nil", in[:i], n, err)
			}
		}
	}
}

// TestParseRequestPipelined parses several requests from one buffer, one
// after another, into one Request.
func TestParseRequestPipelined(t *testing.T) {
	reqs := []string{
		httpGET,
		httpReq("POST /a HTTP/1.1", "Host: a", "Content-Length: 3") + "abc",
		httpChunkedPOST,
		"\r\n" + httpReq("GET /b HTTP/1.1", "Host: b", "Connection: close"),
	}
	targets := []string{"/plaintext", "/a", "/upload", "/b"}
	bodies := []string{"", "abc", "hello, world", ""}
	b := []byte(strings.Join(reqs, ""))
	var r codec.Request
	for i, want := range reqs {
		n, err := codec.ParseRequest(b, &r, nil)
		if n != len(want) || err != nil {
			t.Fatalf("request %d: ParseRequest = %d, %v; want %d, nil", i, n, err, len(want))
		}
		if string(r.Target) != targets[i] || string(r.Body) != bodies[i] {
			t.Errorf("request %d: target %q body %q, want %q %q", i, r.Target, r.Body, targets[i], bodies[i])
		}
		b = b[n:]
	}
	if len(b) != 0 || r.KeepAlive {
		t.Errorf("%d bytes left, KeepAlive %v; want 0, false", len(b), r.KeepAlive)
	}
}

// TestParseRequestSplitEverywhere checks that a request split at any byte
// parses identically once whole: the prefix waits (0, nil), the whole gives
// the result of parsing it in one piece.
func TestParseRequestSplitEverywhere(t *testing.T) {
	ins := []string{
		httpGET,
		httpChunkedPOST,
		httpReq("POST / HTTP/1.1", "Host: a", "Content-Length: 3") + "abc" + httpGET,
		"\r\n\r\n" + httpReq("GET / HTTP/1.0", "Connection: keep-alive"),
		httpReq("POST / HTTP/1.1", "Host: a", "Transfer-Encoding: chunked") + "1;a=\"b;c\" ; d\r\nx\r\n00\r\nA: 1\r\nB: 2\r\n\r\n",
	}
	for _, in := range ins {
		var r codec.Request
		n, err := codec.ParseRequest([]byte(in), &r, nil)
		if n == 0 || err != nil {
			t.Fatalf("ParseRequest(%q) = %d, %v", in, n, err)
		}
		whole := httpDescribe(n, err, &r)
		for i := range n {
			// A fresh copy per split, so nothing can read past the prefix.
			buf := make([]byte, i, len(in))
			copy(buf, in)
			var r codec.Request
			if n, err := codec.ParseRequest(buf, &r, nil); n != 0 || err != nil {
				t.Fatalf("prefix %q: ParseRequest = %d, %v; want 0, nil", buf, n, err)
			}
			buf = append(buf, in[i:]...)
			if got := httpOutcome(buf, nil); got != whole {
				t.Fatalf("split at %d:\n got %s\nwant %s", i, got, whole)
			}
		}
	}
}

// TestParseRequestAppendSafe checks that appending to a returned slice
// never overwrites the input after it.
func TestParseRequestAppendSafe(t *testing.T) {
	in := []byte(httpReq("POST /p HTTP/1.1", "Host: a", "Content-Length: 2") + "hi" + httpGET)
	orig := string(in)
	var r codec.Request
	if _, err := codec.ParseRequest(in, &r, nil); err != nil {
		t.Fatal(err)
	}
	_ = append(r.Method, 'X')
	_ = append(r.Target, 'X')
	_ = append(r.Body, 'X')
	for _, h := range r.Headers {
		_ = append(h.Name, 'X')
		_ = append(h.Value, 'X')
	}
	if string(in) != orig {
		t.Errorf("appending to the request's slices changed the input")
	}
}

// TestRequestHeaderLookup checks Request.Header.
func TestRequestHeaderLookup(t *testing.T) {
	var r codec.Request
	in := httpReq("GET / HTTP/1.1", "Host: a", "X-Dup: 1", "x-dup: 2", "Accept-Encoding: gzip")
	if _, err := codec.ParseRequest([]byte(in), &r, nil); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, want string
		ok         bool
	}{
		{"host", "a", true}, {"X-DUP", "1", true}, {"accept-encoding", "gzip", true},
		{"Accept", "", false}, {"X-Du", "", false}, {"", "", false}, {"Hos\x74", "a", true}, {"H\xcfst", "", false},
	} {
		v, ok := r.Header(c.name)
		if string(v) != c.want || ok != c.ok {
			t.Errorf("Header(%q) = %q, %v; want %q, %v", c.name, v, ok, c.want, c.ok)
		}
	}
	if a := testing.AllocsPerRun(100, func() { r.Header("accept-encoding") }); a != 0 {
		t.Errorf("Header allocates %v times, want 0", a)
	}
}

// TestRequestReset checks that Reset clears every field and that
// ParseRequest leaves nothing of an earlier request behind.
func TestRequestReset(t *testing.T) {
	var r codec.Request
	if _, err := codec.ParseRequest([]byte(httpChunkedPOST), &r, nil); err != nil {
		t.Fatal(err)
	}
	r.Reset()
	if got, want := httpDump(&r), `"" "" HTTP/0.0 cl=-1 chunked=false keepalive=false body="" headers=[] trailers=[]`; got != want {
		t.Errorf("after Reset: %s\nwant %s", got, want)
	}
	if _, err := codec.ParseRequest([]byte(httpChunkedPOST), &r, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := codec.ParseRequest([]byte(httpReq("GET / HTTP/1.0")), &r, nil); err != nil {
		t.Fatal(err)
	}
	if len(r.Trailers) != 0 || r.Body != nil || r.Chunked || len(r.Headers) != 0 {
		t.Errorf("leftovers of the chunked request: %s", httpDump(&r))
	}
}

// TestHTTPError checks the error's text and what it wraps.
func TestHTTPError(t *testing.T) {
	_, err := codec.ParseRequest([]byte("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), new(codec.Request), nil)
	if got, want := err.Error(), "codec: HTTP 400: whitespace between field name and colon"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(err, codec.ErrCorrupt) {
		t.Errorf("a 400 does not wrap ErrCorrupt")
	}
	e := &codec.HTTPError{Status: 431, Reason: "header section too large"}
	if errors.Is(e, codec.ErrCorrupt) {
		t.Errorf("a 431 wraps ErrCorrupt")
	}
}

// TestDecodeRequest checks DecodeRequest on a Bytes source fed a byte at a
// time: it consumes each request whole and only when complete.
func TestDecodeRequest(t *testing.T) {
	in := httpGET + httpChunkedPOST + httpReq("POST / HTTP/1.1", "Host: a", "Content-Length: 1") + "z"
	src := &codec.Bytes{}
	var r codec.Request
	var got []string
	for i := range len(in) {
		src.B = append(src.B, in[i])
		ok, err := codec.DecodeRequest(src, &r, nil)
		if err != nil {
			t.Fatalf("at byte %d: %v", i, err)
		}
		if ok {
			got = append(got, string(r.Target)+" "+string(r.Body))
			if src.Buffered() != 0 {
				t.Errorf("after a request: %d bytes left, want 0", src.Buffered())
			}
		}
	}
	want := []string{"/plaintext ", "/upload hello, world", "/ z"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("decoded %q, want %q", got, want)
	}
	src.B = []byte("GET / HTTP/1.1\r\nHost : a\r\n\r\n")
	if ok, err := codec.DecodeRequest(src, &r, nil); ok || httpStatus(err) != 400 || src.Buffered() == 0 {
		t.Errorf("malformed: DecodeRequest = %v, %v with %d bytes left; want false, 400, nothing consumed", ok, err, src.Buffered())
	}
	src.B = nil
	if ok, err := codec.DecodeRequest(src, &r, nil); ok || err != nil {
		t.Errorf("empty source: DecodeRequest = %v, %v; want false, nil", ok, err)
	}
}
