package codec_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pinion-net/pinion/codec"
)

// httpBatch is a pipelined batch of every kind of request: GETs of several
// shapes, bodies framed by Content-Length and by chunks with extensions and
// trailers, empty lines before a request line, HTTP/1.0.
var httpBatch = strings.Repeat(httpGET, 3) +
	httpReq("POST /a HTTP/1.1", "Host: a", "Content-Length: 11") + "hello world" +
	httpChunkedPOST +
	"\r\n\r\n" + httpReq("HEAD /b HTTP/1.1", "Host: b", "X-Long: "+strings.Repeat("v", 300)) +
	httpReq("PUT /c HTTP/1.1", "Host: c", "Transfer-Encoding: chunked") +
	"3;a=\"b;c\"\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nT1: x\r\nT2: y\r\n\r\n" +
	httpReq("GET /d HTTP/1.0", "Connection: keep-alive") +
	strings.Repeat(httpGET, 2)

// httpServe parses in as a server does: whole requests from the start of
// its unconsumed input, one RequestProgress for the connection. It appends
// the outcome of each whole or refused request to out and returns how much
// of in it consumed.
func httpServe(in []byte, r *codec.Request, pr *codec.RequestProgress, lim *codec.HTTPLimits, out []string) (int, []string) {
	off := 0
	for off < len(in) {
		n, err := codec.ResumeRequest(in[off:], r, lim, pr)
		if err != nil {
			return off, append(out, httpDescribe(0, err, r))
		}
		if n == 0 {
			break
		}
		out = append(out, httpDescribe(n, nil, r))
		off += n
	}
	return off, out
}

// TestResumeRequestSplitEverywhere splits a pipelined batch at every byte
// offset, as two reads of one connection: the requests parsed with one
// RequestProgress across the reads are those of the unsplit batch, field
// for field.
func TestResumeRequestSplitEverywhere(t *testing.T) {
	in := []byte(httpBatch)
	var r codec.Request
	var pr codec.RequestProgress
	used, whole := httpServe(in, &r, &pr, nil, nil)
	if used != len(in) || len(whole) != 10 {
		t.Fatalf("unsplit batch: %d of %d bytes used, %d requests; want all, 10", used, len(in), len(whole))
	}
	for cut := range len(in) {
		// Each read in a fresh buffer, so nothing can read past it, and
		// the unconsumed bytes moved to the front as a server does.
		buf := append(make([]byte, 0, cut), in[:cut]...)
		used, got := httpServe(buf, &r, &pr, nil, nil)
		rest := append(append(make([]byte, 0, len(in)-used), buf[used:]...), in[cut:]...)
		used2, got := httpServe(rest, &r, &pr, nil, got)
		if used+used2 != len(in) || len(got) != len(whole) {
			t.Fatalf("cut at %d: %d bytes used, %d requests; want %d, %d", cut, used+used2, len(got), len(in), len(whole))
		}
		for i := range got {
			if got[i] != whole[i] {
				t.Fatalf("cut at %d, request %d:\n got %s\nwant %s", cut, i, got[i], whole[i])
			}
		}
		if pr != (codec.RequestProgress{}) {
			t.Fatalf("cut at %d: progress left after the batch: %+v", cut, pr)
		}
	}
}

// TestResumeRequestByteByByte feeds inputs one byte per read, with one
// RequestProgress: every call but the last waits, and the last gives what
// the whole input gives at once, a request or the same refusal.
func TestResumeRequestByteByByte(t *testing.T) {
	ins := []string{
		httpBatch,
		httpGET + "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nX: " + strings.Repeat("x", 9000),
		httpReq("POST / HTTP/1.1", "Host: a", "Content-Length: 5", "Content-Length: 6"),
		httpReq("POST / HTTP/1.1", "Host: a", "Transfer-Encoding: chunked") + "5\r\nhello\r\n0\r\nT: 1\r\nT:\x01\r\n\r\n",
		httpReq("POST / HTTP/1.1", "Host: a", "Transfer-Encoding: chunked") + "ff\r\n" + strings.Repeat("x", 255) + "XX",
		"GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n",
		"HEAD / HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("X: y\r\n", 64) + "\r\n",
	}
	for _, in := range ins {
		b := []byte(in)
		var r codec.Request
		var pr codec.RequestProgress
		_, want := httpServe(b, &r, &pr, nil, nil)
		if len(want) == 0 {
			want = []string{"more"}
		}
		var got []string
		off := 0
		for i := 1; i <= len(b); i++ {
			var used int
			used, got = httpServe(b[off:i], &r, &pr, nil, got)
			off += used
			if len(got) > 0 && !strings.HasPrefix(got[len(got)-1], "n=") {
				break // refused: nothing after it is read
			}
		}
		if off == len(b) && len(got) < len(want) {
			got = append(got, "more")
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%.60q byte by byte:\n got %q\nwant %q", in, got, want)
		}
	}
}

// TestResumeRequestNewInput checks that a progress given an input shorter
// than the one it saw last starts afresh rather than trusting it.
func TestResumeRequestNewInput(t *testing.T) {
	var r codec.Request
	var pr codec.RequestProgress
	long := []byte("GET /a HTTP/1.1\r\nHost: a\r\nX-Long: " + strings.Repeat("y", 100))
	if n, err := codec.ResumeRequest(long, &r, nil, &pr); n != 0 || err != nil {
		t.Fatalf("partial: ResumeRequest = %d, %v", n, err)
	}
	bad := []byte("GET / HTTP/1.1\r\nHo\x01t: a\r\n\r\n")
	if _, err := codec.ResumeRequest(bad, &r, nil, &pr); httpStatus(err) != 400 {
		t.Errorf("a shorter, bad input after a partial one: error %v, want 400", err)
	}
}

// TestResumeRequestContinueDue checks when a server owes "100 Continue":
// an HTTP/1.1 request with Expect: 100-continue whose header section has
// arrived and none of its body.
func TestResumeRequestContinueDue(t *testing.T) {
	head := httpReq("POST /echo HTTP/1.1", "Host: a", "Content-Length: 5", "Expect: 100-Continue")
	cases := []struct {
		name string
		in   string
		want bool
	}{
		{"header section whole", head, true},
		{"part of the header section", head[:len(head)-1], false},
		{"body begun", head + "he", false},
		{"no Expect", httpReq("POST /echo HTTP/1.1", "Host: a", "Content-Length: 5"), false},
		{"HTTP/1.0", httpReq("POST /echo HTTP/1.0", "Content-Length: 5", "Expect: 100-continue"), false},
		{"other expectation", httpReq("POST /echo HTTP/1.1", "Host: a", "Content-Length: 5", "Expect: 200-ok"), false},
		{"chunked", httpReq("POST /echo HTTP/1.1", "Host: a", "Transfer-Encoding: chunked", "Expect: 100-continue"), true},
	}
	for _, c := range cases {
		var r codec.Request
		var pr codec.RequestProgress
		// Twice: once afresh, once resumed from a first piece.
		for _, first := range []int{0, len(c.in) / 2} {
			pr = codec.RequestProgress{}
			if first > 0 {
				codec.ResumeRequest([]byte(c.in[:first]), &r, nil, &pr)
			}
			if n, err := codec.ResumeRequest([]byte(c.in), &r, nil, &pr); n != 0 || err != nil {
				t.Fatalf("%s: ResumeRequest = %d, %v; want 0, nil", c.name, n, err)
			}
			if got := pr.ContinueDue(); got != c.want {
				t.Errorf("%s (first piece %d bytes): ContinueDue = %v, want %v", c.name, first, got, c.want)
			}
		}
	}
}

// TestRefusalMethod checks that a refusal leaves Method set once the
// request line got past it, so that a server can answer a HEAD without a
// body, also when the refusal comes in a later read.
func TestRefusalMethod(t *testing.T) {
	cases := []struct{ in, method string }{
		{"HEAD /\x80 HTTP/1.1\r\nHost: a\r\n\r\n", "HEAD"},
		{"HEAD / HTTP/1.1\r\nHost : a\r\n\r\n", "HEAD"},
		{"HEAD / HTTP/9.9\r\nHost: a\r\n\r\n", "HEAD"},
		{"HEAD /" + strings.Repeat("a", 9000), "HEAD"},
		{"GET / HTTP/1.1\r\nHost: a\r\nX: " + strings.Repeat("x", 9000), "GET"},
		{"HE(D / HTTP/1.1\r\n\r\n", ""},
		{"\x16\x03\x01", ""},
	}
	for _, c := range cases {
		for _, first := range []int{0, len(c.in) / 2} {
			var r codec.Request
			var pr codec.RequestProgress
			if first > 0 {
				codec.ResumeRequest([]byte(c.in[:first]), &r, nil, &pr)
			}
			n, err := codec.ResumeRequest([]byte(c.in), &r, nil, &pr)
			if n != 0 || err == nil && c.method != "" {
				t.Fatalf("%.40q: ResumeRequest = %d, %v; want a refusal", c.in, n, err)
			}
			if err != nil && string(r.Method) != c.method {
				t.Errorf("%.40q (first piece %d bytes): Method %q after the refusal, want %q", c.in, first, r.Method, c.method)
			}
		}
	}
}

// TestResumeRequestChangedInput checks that an input whose start changed
// under a progress, against the contract, is a panic that says so rather
// than a request split from the wrong bytes.
func TestResumeRequestChangedInput(t *testing.T) {
	var r codec.Request
	var pr codec.RequestProgress
	first := []byte("GET /a HTTP/1.1\r\nHost: a\r\nX-A: b\r\n\r\nPOST")
	if n, err := codec.ResumeRequest(first[:len(first)-8], &r, nil, &pr); n != 0 || err != nil {
		t.Fatalf("partial: ResumeRequest = %d, %v", n, err)
	}
	defer func() {
		if v := recover(); v == nil || !strings.Contains(fmt.Sprint(v), "RequestProgress") {
			t.Errorf("recovered %v, want a panic naming RequestProgress", v)
		}
	}()
	changed := []byte("GET /a HTTP/1.1\r\nHost  a\r\nX-A: b\r\n\r\nPOST") // a line checked before
	n, err := codec.ResumeRequest(changed, &r, nil, &pr)
	t.Errorf("ResumeRequest on a changed input = %d, %v; want a panic", n, err)
}

// TestRequestProgressPartial checks that Partial says exactly whether a
// progress differs from the zero value after every ResumeRequest call,
// over requests fed one more byte at a time, whole ones, refused ones and
// empty input.
func TestRequestProgressPartial(t *testing.T) {
	ins := []string{
		httpBatch,
		"GET / HTTP/1.1\r\nHost: a\r\nX: " + strings.Repeat("x", 9000),
		httpReq("POST / HTTP/1.1", "Host: a", "Transfer-Encoding: chunked") + "5\r\nhello\r\n0\r\n\r\n",
		httpReq("POST / HTTP/1.1", "Host: a", "Expect: 100-continue", "Content-Length: 3") + "abc",
		"\r\n\r\nGET / HTTP/1.1\r\nHost : a\r\n\r\n",
	}
	for _, in := range ins {
		var r codec.Request
		var pr codec.RequestProgress
		for i := 0; i <= len(in); i++ {
			n, err := codec.ResumeRequest([]byte(in[:i]), &r, nil, &pr)
			if got, want := pr.Partial(), pr != (codec.RequestProgress{}); got != want {
				t.Fatalf("%.40q, first %d bytes (n %d, err %v): Partial() = %v, progress is zero: %v", in, i, n, err, got, !want)
			}
			if n > 0 || err != nil {
				break
			}
		}
	}
}
