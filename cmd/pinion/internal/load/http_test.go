package load

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/pinion-net/pinion/codec"
)

// httpResp returns a response as pinion's server writes it: Server, Date,
// Content-Type and Content-Length, then extra fields, then body.
func httpResp(status int, reason, body string, extra ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\nServer: pinion\r\nDate: Mon, 02 Jan 2006 15:04:05 GMT\r\n", status, reason)
	fmt.Fprintf(&b, "Content-Type: text/plain\r\nContent-Length: %d\r\n", len(body))
	for _, f := range extra {
		b.WriteString(f + "\r\n")
	}
	return b.String() + "\r\n" + body
}

var httpResponseTests = []struct {
	name   string
	in     string
	n      int // -1: len(in)
	status int
	body   string
	close  bool
	err    string // a part of the error; "" for none
}{
	{name: "plaintext", in: httpResp(200, "OK", "Hello, World!"), n: -1, status: 200, body: "Hello, World!"},
	{name: "json", in: httpResp(200, "OK", `{"message":"Hello, World!"}`), n: -1, status: 200, body: `{"message":"Hello, World!"}`},
	{name: "not found", in: httpResp(404, "Not Found", "Not Found\n"), n: -1, status: 404, body: "Not Found\n"},
	{name: "minimal", in: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", n: -1, status: 200, body: "hi"},
	{name: "empty reason", in: "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n", n: -1, status: 200},
	{name: "reason with spaces", in: "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n", n: -1, status: 500},
	{name: "field case and spaces", in: "HTTP/1.1 200 OK\r\ncontent-LENGTH: \t 3 \t\r\nX-A:\r\n\r\nabc", n: -1, status: 200, body: "abc"},
	{name: "duplicate equal length", in: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3 \r\n\r\nabc", n: -1, status: 200, body: "abc"},
	{name: "leading zeros", in: "HTTP/1.1 200 OK\r\nContent-Length: 003\r\n\r\nabc", n: -1, status: 200, body: "abc"},
	{name: "keep-alive", in: httpResp(200, "OK", "x", "Connection: keep-alive"), n: -1, status: 200, body: "x"},
	{name: "close", in: httpResp(200, "OK", "x", "Connection: close"), n: -1, status: 200, body: "x", close: true},
	{name: "close in a list", in: httpResp(200, "OK", "x", "connection: Upgrade ,  CLOSE"), n: -1, status: 200, body: "x", close: true},
	{name: "closed not close", in: httpResp(200, "OK", "x", "Connection: closed"), n: -1, status: 200, body: "x"},
	{name: "204 without length", in: "HTTP/1.1 204 No Content\r\nServer: pinion\r\n\r\n", n: -1, status: 204},
	{name: "304 ignores length", in: "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n", n: -1, status: 304},
	{name: "obs-text reason", in: "HTTP/1.1 200 \xe9t\xe9\r\nContent-Length: 0\r\n\r\n", n: -1, status: 200},
	{name: "pipelined", in: "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 200 OK\r\n", n: 39, status: 200, body: "a"},
	// 17 bytes of status line, 3 + k + 2 of field, 2 of end: 24 + k.
	{name: "header at the limit", in: "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("a", loadHTTPMaxHeader-24) + "\r\n\r\n", err: "without Content-Length"},

	{name: "missing length", in: "HTTP/1.1 200 OK\r\nServer: pinion\r\n\r\nhi", err: "response without Content-Length"},
	{name: "chunked", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n", err: "Transfer-Encoding in a response is not supported"},
	{name: "chunked with length", in: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n", err: "Transfer-Encoding"},
	{name: "conflicting length", in: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc", err: "differing Content-Length values"},
	{name: "length spelt differently", in: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 02\r\n\r\nab", n: -1, status: 200, body: "ab"},
	{name: "length list", in: "HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nab", n: -1, status: 200, body: "ab"},
	{name: "negative length", in: "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", err: "malformed Content-Length"},
	{name: "empty length", in: "HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n", err: "malformed Content-Length"},
	{name: "huge length", in: "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n", err: "Content-Length has too many digits"},
	{name: "HTTP/1.0", in: "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", err: "HTTP/1.0 response, want HTTP/1.1"},
	{name: "lower-case version", in: "http/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", err: "malformed status line"},
	{name: "no reason separator", in: "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", err: "malformed status line"},
	{name: "two-digit status", in: "HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n", err: "malformed status"},
	{name: "letter in status", in: "HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n", err: "malformed status line"},
	{name: "status over 599", in: "HTTP/1.1 600 Odd\r\nContent-Length: 0\r\n\r\n", err: "status code out of range"},
	{name: "interim", in: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", err: "interim response 100"},
	{name: "control in reason", in: "HTTP/1.1 200 O\x01K\r\nContent-Length: 0\r\n\r\n", err: "malformed status line"},
	{name: "bare LF status", in: "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", err: "LF without CR"},
	{name: "bare LF field", in: "HTTP/1.1 200 OK\r\nContent-Length: 0\n\r\n", err: "LF without CR"},
	{name: "bare LF end", in: "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\n", err: "LF without CR"},
	{name: "CR in value", in: "HTTP/1.1 200 OK\r\nX: a\rb\r\nContent-Length: 0\r\n\r\n", err: "CR without LF"},
	{name: "space before colon", in: "HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n", err: "whitespace between field name and colon"},
	{name: "obs-fold", in: "HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n", err: "obsolete line folding"},
	{name: "obs-fold first", in: "HTTP/1.1 200 OK\r\n\tContent-Length: 0\r\n\r\n", err: "obsolete line folding"},
	{name: "no colon", in: "HTTP/1.1 200 OK\r\nContent-Length 0\r\n\r\n", err: "whitespace between field name and colon"},
	{name: "empty name", in: "HTTP/1.1 200 OK\r\n: 0\r\n\r\n", err: "invalid field name"},
	{name: "oversize header", in: "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("a", loadHTTPMaxHeader) + "\r\n\r\n", err: "header section too large"},
	{name: "oversize by one", in: "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("a", loadHTTPMaxHeader-23) + "\r\n\r\n", err: "header section too large"},
	{name: "fields without an end", in: "HTTP/1.1 200 OK\r\n" + strings.Repeat("X: a\r\n", loadHTTPMaxHeader/6+1), err: "too many header fields"},

	{name: "incomplete header", in: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"},
	{name: "incomplete body", in: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabcd"},
	{name: "empty", in: ""},
}

// TestReadResponse checks what the load generator accepts of a response,
// codec's rules and its own, on each case whole, then on every prefix of
// it: a prefix is incomplete or gives what the whole gives.
func TestReadResponse(t *testing.T) {
	for _, tc := range httpResponseTests {
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(tc.in)
			wantN := tc.n
			if wantN < 0 {
				wantN = len(in)
			}
			if tc.err != "" {
				wantN = 0
			}
			var r codec.Response
			n, err := readResponse(in, &r)
			switch {
			case tc.err != "":
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
			case err != nil:
				t.Fatalf("error %v, want none", err)
			case n != wantN:
				t.Fatalf("used %d bytes, want %d", n, wantN)
			case n > 0 && (r.Status != tc.status || string(r.Body) != tc.body || r.KeepAlive == tc.close):
				t.Fatalf("status %d body %q keep-alive %v, want %d %q close %v", r.Status, r.Body, r.KeepAlive, tc.status, tc.body, tc.close)
			}
			for i := range len(in) {
				var pr codec.Response
				pn, perr := readResponse(in[:i], &pr)
				switch {
				case pn == 0 && perr == nil:
				case perr != nil && err != nil && perr.Error() == err.Error():
				case perr == nil && pn == n && pr.Status == r.Status && string(pr.Body) == string(r.Body):
				default:
					t.Fatalf("prefix of %d bytes: used %d, err %v; want incomplete or what the whole gives (%d, %v)",
						i, pn, perr, n, err)
				}
			}
		})
	}
}

func httpLoadConfig(path string, pipeline int) loadConfig {
	return loadConfig{proto: "http", addr: "127.0.0.1:9000", path: path, status: 200, pipeline: pipeline}
}

// exchange runs one batch of n requests on s, answering with the
// responses in stream, which it hands to check in two parts split at split
// (0: whole), as a connection would.
func exchange(s loadSession, n int, stream []byte, split int) (written []byte, done int, err error) {
	s.begin(n)
	for b := s.next(); b != nil; b = s.next() {
		written = append(written, b...)
	}
	var have []byte
	for _, part := range [][]byte{stream[:split], stream[split:]} {
		have = append(have, part...)
		used, k, err := s.check(have)
		if err != nil {
			return written, done + k, err
		}
		have = have[used:]
		done += k
	}
	if len(have) != 0 {
		return written, done, fmt.Errorf("%d bytes left unconsumed", len(have))
	}
	return written, done, nil
}

func TestLoadHTTPSession(t *testing.T) {
	p, err := newHTTPLoad(httpLoadConfig("/plaintext", 16))
	if err != nil {
		t.Fatal(err)
	}
	want := "GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1:9000\r\n\r\n"
	stream := []byte(strings.Repeat(httpResp(200, "OK", "Hello, World!"), 16))
	for split := range len(stream) {
		written, done, err := exchange(p.session(split), 16, stream, split)
		if err != nil || done != 16 {
			t.Fatalf("split at %d: %d done, err %v; want 16, nil", split, done, err)
		}
		if string(written) != strings.Repeat(want, 16) {
			t.Fatalf("wrote %q, want 16 × %q", written, want)
		}
	}
	// A batch longer than the shared copies is written in pieces.
	s := p.session(0)
	s.begin(40)
	var pieces []int
	for b := s.next(); b != nil; b = s.next() {
		pieces = append(pieces, len(b)/len(want))
	}
	if fmt.Sprint(pieces) != "[16 16 8]" {
		t.Errorf("a batch of 40 was written in pieces of %v requests, want [16 16 8]", pieces)
	}
}

func TestLoadHTTPSessionRejects(t *testing.T) {
	ok := httpResp(200, "OK", "Hello, World!")
	for _, tc := range []struct {
		name, path, stream, want string
	}{
		{"status", "/plaintext", ok + ok + httpResp(404, "Not Found", "Not Found\n"), "response 3: status 404, want 200"},
		{"body", "/plaintext", ok + httpResp(200, "OK", "Hello, World?"), `response 2: body "Hello, World?", want "Hello, World!"`},
		{"json body", "/json", httpResp(200, "OK", "Hello, World!"), `want "{\"message\":\"Hello, World!\"}"`},
		{"close", "/plaintext", httpResp(200, "OK", "Hello, World!", "Connection: close"), "response 1: \"Connection: close\""},
		{"chunked", "/plaintext", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "response 1: Transfer-Encoding"},
		{"unrequested", "/plaintext", ok + ok + ok + "H", "1 bytes after response 3"},
		{"malformed", "/other", "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", "response 1: malformed Content-Length"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := newHTTPLoad(httpLoadConfig(tc.path, 3))
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = exchange(p.session(0), 3, []byte(tc.stream), 0)
			if !errors.Is(err, errVerify) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want errVerify saying %q", err, tc.want)
			}
		})
	}
	// Any other path checks the status alone.
	p, _ := newHTTPLoad(httpLoadConfig("/block?ms=0", 1))
	if _, done, err := exchange(p.session(0), 1, []byte(httpResp(200, "OK", "ok")), 0); err != nil || done != 1 {
		t.Errorf("/block: %d done, err %v; want 1, nil", done, err)
	}
}

func TestLoadHTTPPath(t *testing.T) {
	for _, path := range []string{"", "plaintext", "/a b", "/a\r\nX: y", "/\x7f"} {
		if _, err := newHTTPLoad(httpLoadConfig(path, 1)); err == nil || !strings.Contains(err.Error(), "-path") {
			t.Errorf("newHTTPLoad with -path %q: %v, want an error about -path", path, err)
		}
	}
}

// TestLoadHTTPSessionAllocs checks that writing and verifying a pipelined batch
// allocates nothing.
func TestLoadHTTPSessionAllocs(t *testing.T) {
	p, err := newHTTPLoad(httpLoadConfig("/plaintext", 16))
	if err != nil {
		t.Fatal(err)
	}
	s := p.session(0)
	stream := []byte(strings.Repeat(httpResp(200, "OK", "Hello, World!"), 16))
	var failed error
	allocs := testing.AllocsPerRun(200, func() {
		s.begin(16)
		for s.next() != nil {
		}
		used, done, err := s.check(stream[:100])
		if err == nil && (used != 0 || done != 0) {
			err = fmt.Errorf("a partial response: used %d, done %d", used, done)
		}
		if u, d, e := s.check(stream); err == nil && (e != nil || u != len(stream) || d != 16) {
			err = fmt.Errorf("used %d, done %d, err %v", u, d, e)
		}
		if err != nil {
			failed = err
		}
	})
	if failed != nil {
		t.Fatal(failed)
	}
	if allocs != 0 {
		t.Errorf("a batch allocates %v times, want 0", allocs)
	}
}
