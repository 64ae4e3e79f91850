package proto

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/pinion-net/pinion/cmd/pinion/internal/wiretest"
)

// httpTestNow is the clock of the protocol-level tests.
var httpTestNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// newTestHTTP returns the HTTP protocol with the serve flags' default
// limits, changed by mutate when it is not nil.
func newTestHTTP(t testing.TB, mutate func(*Options)) Protocol {
	t.Helper()
	o := Options{MaxHeader: 8 << 10, MaxBody: 1 << 20}
	if mutate != nil {
		mutate(&o)
	}
	p, err := newHTTP(o)
	if err != nil {
		t.Fatalf("newHTTP: %v", err)
	}
	return p
}

// httpParseReplies parses every response in reply, whose requests used
// methods in order (the last method repeats), and fails the test when a
// byte is left over.
func httpParseReplies(t *testing.T, reply []byte, methods ...string) []wiretest.HTTPResponse {
	t.Helper()
	br := bufio.NewReader(bytes.NewReader(reply))
	var got []wiretest.HTTPResponse
	for i := 0; ; i++ {
		if _, err := br.Peek(1); err == io.EOF {
			return got
		}
		m := "GET"
		if len(methods) > 0 {
			m = methods[min(i, len(methods)-1)]
		}
		g, err := wiretest.ReadHTTP(br, m)
		if err != nil {
			t.Fatalf("response %d of %q: %v", i, reply, err)
		}
		got = append(got, g)
	}
}

// TestHTTPServe runs the protocol on byte inputs: every route, the
// refusals, keep-alive and close, and input that ends inside a request.
func TestHTTPServe(t *testing.T) {
	plain := wiretest.HTTPRequest("GET", "/plaintext", "", "")
	closeReq := wiretest.HTTPRequest("GET", "/plaintext", "Connection: close\r\n", "")
	partial := "GET /json HTTP/1.1\r\nHost: te"
	chunked := "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
	expect := "POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"
	tests := []struct {
		name     string
		opts     func(*Options)
		in       string
		methods  []string
		want     []wiretest.HTTPWant
		consumed int // -1: all of in
		close    bool
		err      bool
		partial  bool
		block    time.Duration
	}{
		{name: "plaintext", in: plain, want: []wiretest.HTTPWant{wiretest.Hello}, consumed: -1},
		{name: "json", in: wiretest.HTTPRequest("GET", "/json", "", ""), want: []wiretest.HTTPWant{wiretest.JSON}, consumed: -1},
		{name: "head", in: wiretest.HTTPRequest("HEAD", "/json", "", ""), methods: []string{"HEAD"}, consumed: -1,
			want: []wiretest.HTTPWant{{Status: 200, Body: "", Header: map[string]string{"Content-Length": "27", "Content-Type": "application/json"}}}},
		{name: "absolute-form", in: wiretest.HTTPRequest("GET", "http://test/json", "", ""), want: []wiretest.HTTPWant{wiretest.JSON}, consumed: -1},
		{name: "echo", in: wiretest.HTTPRequest("POST", "/echo", "", "a body"), consumed: -1,
			want: []wiretest.HTTPWant{{Status: 200, Body: "a body", Header: map[string]string{"Content-Type": "application/octet-stream"}}}},
		{name: "echo chunked", in: chunked, want: []wiretest.HTTPWant{{Status: 200, Body: "hello world"}}, consumed: -1},
		{name: "echo empty", in: wiretest.HTTPRequest("POST", "/echo", "", ""), want: []wiretest.HTTPWant{{Status: 200, Body: ""}}, consumed: -1},
		{name: "block", in: wiretest.HTTPRequest("GET", "/block?ms=20", "", ""), want: []wiretest.HTTPWant{{Status: 200, Body: "ok"}}, consumed: -1, block: 20 * time.Millisecond},
		{name: "block other params", in: wiretest.HTTPRequest("GET", "/block?x=1&ms=7&ms=9", "", ""), want: []wiretest.HTTPWant{{Status: 200, Body: "ok"}}, consumed: -1, block: 7 * time.Millisecond},
		{name: "block 0", in: wiretest.HTTPRequest("GET", "/block?ms=0", "", ""), want: []wiretest.HTTPWant{{Status: 200, Body: "ok"}}, consumed: -1},
		{name: "block max", in: wiretest.HTTPRequest("GET", "/block?ms=10000", "", ""), want: []wiretest.HTTPWant{{Status: 200, Body: "ok"}}, consumed: -1, block: 10 * time.Second},
		{name: "block too long", in: wiretest.HTTPRequest("GET", "/block?ms=10001", "", ""), want: []wiretest.HTTPWant{{Status: 400, Body: httpBadBlock}}, consumed: -1},
		{name: "block not a number", in: wiretest.HTTPRequest("GET", "/block?ms=1e3", "", ""), want: []wiretest.HTTPWant{{Status: 400, Body: httpBadBlock}}, consumed: -1},
		{name: "block negative", in: wiretest.HTTPRequest("GET", "/block?ms=-1", "", ""), want: []wiretest.HTTPWant{{Status: 400, Body: httpBadBlock}}, consumed: -1},
		{name: "block no ms", in: wiretest.HTTPRequest("GET", "/block", "", ""), want: []wiretest.HTTPWant{{Status: 400, Body: httpBadBlock}}, consumed: -1},
		{name: "not found", in: wiretest.HTTPRequest("GET", "/plaintext/", "", ""), want: []wiretest.HTTPWant{{Status: 404, Body: httpNotFound}}, consumed: -1},
		{name: "not found root", in: wiretest.HTTPRequest("GET", "/", "", ""), want: []wiretest.HTTPWant{{Status: 404, Body: httpNotFound}}, consumed: -1},
		{name: "post plaintext", in: wiretest.HTTPRequest("POST", "/plaintext", "", "x"), consumed: -1,
			want: []wiretest.HTTPWant{{Status: 405, Body: httpMethod, Header: map[string]string{"Allow": "GET, HEAD"}}}},
		{name: "delete block", in: wiretest.HTTPRequest("DELETE", "/block?ms=1", "", ""), consumed: -1,
			want: []wiretest.HTTPWant{{Status: 405, Body: httpMethod, Header: map[string]string{"Allow": "GET, HEAD"}}}},
		{name: "get echo", in: wiretest.HTTPRequest("GET", "/echo", "", ""), consumed: -1,
			want: []wiretest.HTTPWant{{Status: 405, Body: httpMethod, Header: map[string]string{"Allow": "POST", "Connection": ""}}}},
		{name: "head echo", in: wiretest.HTTPRequest("HEAD", "/echo", "", ""), methods: []string{"HEAD"}, consumed: -1,
			want: []wiretest.HTTPWant{{Status: 405, Body: "", Header: map[string]string{"Allow": "POST"}}}},
		{name: "keep-alive then more", in: plain + plain, want: []wiretest.HTTPWant{wiretest.Hello, wiretest.Hello}, consumed: -1},
		{name: "connection close stops", in: closeReq + plain, want: []wiretest.HTTPWant{
			{Status: 200, Body: "Hello, World!", Header: map[string]string{"Connection": "close"}}}, consumed: len(closeReq), close: true},
		{name: "405 with close", in: wiretest.HTTPRequest("PUT", "/json", "Connection: close\r\n", "") + plain, close: true,
			want: []wiretest.HTTPWant{{Status: 405, Body: httpMethod, Header: map[string]string{"Connection": "close"}}}, consumed: -2},
		{name: "http/1.0 closes", in: "GET /plaintext HTTP/1.0\r\n\r\n" + plain, close: true,
			want: []wiretest.HTTPWant{{Status: 200, Body: "Hello, World!", Header: map[string]string{"Connection": "close"}}}, consumed: len("GET /plaintext HTTP/1.0\r\n\r\n")},
		{name: "http/1.0 keep-alive", in: "GET /json HTTP/1.0\r\nConnection: keep-alive\r\n\r\nHEAD /plaintext HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
			methods: []string{"GET", "HEAD"}, consumed: -1, want: []wiretest.HTTPWant{
				{Status: 200, Body: `{"message":"Hello, World!"}`, Header: map[string]string{"Connection": "keep-alive"}},
				{Status: 200, Body: "", Header: map[string]string{"Connection": "keep-alive", "Content-Length": "13"}}}},
		{name: "partial", in: partial, consumed: 0, partial: true},
		{name: "complete then partial", in: plain + partial, want: []wiretest.HTTPWant{wiretest.Hello}, consumed: len(plain), partial: true},
		{name: "partial body", in: wiretest.HTTPRequest("POST", "/echo", "", "abcdef")[:len(wiretest.HTTPRequest("POST", "/echo", "", "abcdef"))-2], consumed: 0, partial: true},
		{name: "expect 100-continue", in: expect, consumed: 0, partial: true, want: []wiretest.HTTPWant{{Status: 100, Body: ""}}},
		{name: "expect, body started", in: expect + "ab", consumed: 0, partial: true},
		{name: "garbage", in: "\x00\x01\x02 hello\r\n\r\n", close: true, err: true, consumed: 0,
			want: []wiretest.HTTPWant{{Status: 400, Body: "Bad Request\n", Header: map[string]string{"Connection": "close"}}}},
		{name: "garbage after a request", in: plain + "NOT HTTP\r\n\r\n" + plain, close: true, err: true, consumed: len(plain),
			want: []wiretest.HTTPWant{wiretest.Hello, {Status: 400, Body: "Bad Request\n", Header: map[string]string{"Connection": "close"}}}},
		{name: "missing host", in: "GET /plaintext HTTP/1.1\r\n\r\n", close: true, err: true, want: []wiretest.HTTPWant{{Status: 400, Body: "Bad Request\n"}}},
		{name: "http/2.0", in: "GET /plaintext HTTP/2.0\r\nHost: t\r\n\r\n", close: true, err: true, want: []wiretest.HTTPWant{{Status: 505, Body: "HTTP Version Not Supported\n"}}},
		{name: "unsupported coding", in: "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", close: true, err: true,
			want: []wiretest.HTTPWant{{Status: 501, Body: "Not Implemented\n"}}},
		{name: "header too large", opts: func(o *Options) { o.MaxHeader = 256 }, close: true, err: true,
			in: "GET /plaintext HTTP/1.1\r\nHost: t\r\nX-Big: " + strings.Repeat("a", 300), want: []wiretest.HTTPWant{{Status: 431, Body: "Request Header Fields Too Large\n"}}},
		{name: "declared body too large", in: "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1099511627776\r\n\r\n", close: true, err: true,
			want: []wiretest.HTTPWant{{Status: 413, Body: "Content Too Large\n"}}},
		{name: "max-body 0", opts: func(o *Options) { o.MaxBody = 0 }, in: wiretest.HTTPRequest("POST", "/echo", "", "x"), close: true, err: true,
			want: []wiretest.HTTPWant{{Status: 413, Body: "Content Too Large\n"}}},
		{name: "max-body 0 empty body", opts: func(o *Options) { o.MaxBody = 0 }, in: wiretest.HTTPRequest("POST", "/echo", "", ""),
			want: []wiretest.HTTPWant{{Status: 200, Body: ""}}, consumed: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newTestHTTP(t, tt.opts)
			sc := &Scratch{Now: httpTestNow}
			n, reply, next := p.Serve(sc, []byte(tt.in), nil)
			wantN := tt.consumed
			switch wantN {
			case -1:
				wantN = len(tt.in)
			case -2:
				wantN = len(tt.in) - len(plain)
			}
			if n != wantN {
				t.Errorf("consumed %d bytes, want %d", n, wantN)
			}
			if next.Close != tt.close || (next.Err != nil) != tt.err || next.Partial != tt.partial || next.Block != tt.block {
				t.Errorf("action: got close=%v err=%v partial=%v block=%v, want close=%v err=%v partial=%v block=%v",
					next.Close, next.Err, next.Partial, next.Block, tt.close, tt.err, tt.partial, tt.block)
			}
			got := httpParseReplies(t, reply, tt.methods...)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d responses, want %d: %q", len(got), len(tt.want), reply)
			}
			for i, w := range tt.want {
				w.Check(t, i, got[i])
				if d := got[i].Header.Get("Date"); w.Status >= 200 && d != "Sun, 01 Mar 2026 12:00:00 GMT" {
					t.Errorf("response %d: Date %q, want the scratch's clock", i, d)
				}
			}
		})
	}
}

// TestHTTPServePipelined serves 16 pipelined requests in one buffer:
// 16 responses, in request order.
func TestHTTPServePipelined(t *testing.T) {
	p := newTestHTTP(t, nil)
	var in bytes.Buffer
	var want []wiretest.HTTPWant
	for i := range 16 {
		switch i % 4 {
		case 0:
			in.WriteString(wiretest.HTTPRequest("GET", "/plaintext", "", ""))
			want = append(want, wiretest.Hello)
		case 1:
			in.WriteString(wiretest.HTTPRequest("GET", "/json", "", ""))
			want = append(want, wiretest.JSON)
		case 2:
			body := fmt.Sprintf("request %d", i)
			in.WriteString(wiretest.HTTPRequest("POST", "/echo", "", body))
			want = append(want, wiretest.HTTPWant{Status: 200, Body: body})
		case 3:
			in.WriteString(wiretest.HTTPRequest("GET", fmt.Sprintf("/missing/%d", i), "", ""))
			want = append(want, wiretest.HTTPWant{Status: 404, Body: httpNotFound})
		}
	}
	n, reply, next := p.Serve(&Scratch{Now: httpTestNow}, in.Bytes(), nil)
	if n != in.Len() || next != (Action{}) {
		t.Fatalf("got n=%d action %+v, want n=%d and no action", n, next, in.Len())
	}
	got := httpParseReplies(t, reply)
	if len(got) != len(want) {
		t.Fatalf("got %d responses, want %d", len(got), len(want))
	}
	for i := range want {
		want[i].Check(t, i, got[i])
	}
}

// TestHTTPServeBlock checks that a /block request stops serving: the
// replies before it go out at once, its own from blockFrom on after the
// blocking work, and the requests after it are left for the next call.
func TestHTTPServeBlock(t *testing.T) {
	p := newTestHTTP(t, nil)
	sc := &Scratch{Now: httpTestNow}
	first := wiretest.HTTPRequest("GET", "/plaintext", "", "")
	block := wiretest.HTTPRequest("GET", "/block?ms=20", "", "")
	rest := wiretest.HTTPRequest("GET", "/json", "", "")
	n, reply, next := p.Serve(sc, []byte(first+block+rest), nil)
	if n != len(first+block) {
		t.Errorf("consumed %d bytes, want %d (through the /block request)", n, len(first+block))
	}
	if next.Block != 20*time.Millisecond || next.Close || next.Partial {
		t.Errorf("action %+v, want block 20ms only", next)
	}
	now, later := reply[:next.BlockFrom], reply[next.BlockFrom:]
	if got := httpParseReplies(t, now); len(got) != 1 {
		t.Errorf("before blockFrom: %d responses, want 1", len(got))
	} else {
		wiretest.Hello.Check(t, 0, got[0])
	}
	if got := httpParseReplies(t, later); len(got) != 1 {
		t.Errorf("from blockFrom on: %d responses, want 1", len(got))
	} else {
		wiretest.HTTPWant{Status: 200, Body: "ok"}.Check(t, 0, got[0])
	}

	// The rest, served by the next call.
	n, reply, next = p.Serve(sc, []byte(rest), reply[:0])
	if n != len(rest) || next != (Action{}) {
		t.Errorf("rest: got n=%d action %+v, want n=%d and no action", n, next, len(rest))
	}
	if got := httpParseReplies(t, reply); len(got) != 1 {
		t.Errorf("rest: %d responses, want 1", len(got))
	} else {
		wiretest.JSON.Check(t, 0, got[0])
	}

	// A /block request with Connection: close blocks, then closes.
	_, _, next = p.Serve(sc, []byte(wiretest.HTTPRequest("GET", "/block?ms=3", "Connection: close\r\n", "")+rest), nil)
	if next.Block != 3*time.Millisecond || !next.Close || next.BlockFrom != 0 {
		t.Errorf("block with close: action %+v, want block 3ms, blockFrom 0, close", next)
	}
}

// TestHTTPBusy checks the reply to a refused offload: 503, then close.
func TestHTTPBusy(t *testing.T) {
	p := newTestHTTP(t, nil)
	b, ok := p.(interface{ Busy(*Scratch, []byte) []byte })
	if !ok {
		t.Fatalf("%T has no Busy reply", p)
	}
	got := httpParseReplies(t, b.Busy(&Scratch{Now: httpTestNow}, nil))
	if len(got) != 1 {
		t.Fatalf("got %d responses, want 1", len(got))
	}
	wiretest.HTTPWant{Status: 503, Body: "Service Unavailable\n", Header: map[string]string{"Connection": "close"}}.Check(t, 0, got[0])

	// For a HEAD /block, the same without the body (RFC 9110 §9.3.2).
	sc := &Scratch{Now: httpTestNow}
	if n, _, next := p.Serve(sc, []byte(wiretest.HTTPRequest("HEAD", "/block?ms=5", "", "")), nil); n == 0 || next.Block == 0 {
		t.Fatalf("HEAD /block: serve = %d, %+v; want it served with blocking work owed", n, next)
	}
	reply := b.Busy(sc, nil)
	if !bytes.HasSuffix(reply, []byte("\r\n\r\n")) {
		t.Errorf("503 to HEAD: %q, want no body after the header section", reply)
	}
	got = httpParseReplies(t, reply, "HEAD")
	wiretest.HTTPWant{Status: 503, Body: "", Header: map[string]string{"Connection": "close", "Content-Length": "20"}}.Check(t, 0, got[0])
}

// TestHTTPServeAllocs checks that serving pipelined /plaintext and /json
// into a reused buffer allocates nothing once warm.
func TestHTTPServeAllocs(t *testing.T) {
	for _, target := range []string{"/plaintext", "/json"} {
		t.Run(target, func(t *testing.T) {
			p := newTestHTTP(t, nil)
			batch := []byte(strings.Repeat("GET "+target+" HTTP/1.1\r\nHost: localhost\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n", 16))
			sc := &Scratch{Now: httpTestNow}
			var out []byte
			run := func() {
				n, reply, _ := p.Serve(sc, batch, out[:0])
				if n != len(batch) {
					t.Fatalf("consumed %d bytes, want %d", n, len(batch))
				}
				out = reply
			}
			run() // grows the Request and out
			if a := testing.AllocsPerRun(100, run); a != 0 {
				t.Errorf("got %v allocations per pipelined batch, want 0", a)
			}
		})
	}
}
