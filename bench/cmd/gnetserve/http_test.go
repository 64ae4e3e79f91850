package main

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/panjf2000/gnet/v2"
)

// readResponse reads one response to a request of method from br and its
// whole body.
func readResponse(t *testing.T, br *bufio.Reader, method string) (*http.Response, string) {
	t.Helper()
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		t.Fatalf("read the response to %s: %v", method, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("read the body of the response to %s: %v", method, err)
	}
	return resp, string(body)
}

// wantResponse checks a response's status, headers and body.
func wantResponse(t *testing.T, resp *http.Response, body string, status int, contentType, wantBody string, contentLength int64) {
	t.Helper()
	if resp.StatusCode != status {
		t.Errorf("status = %d, want %d", resp.StatusCode, status)
	}
	if got := resp.Header.Get("Server"); got != "gnet" {
		t.Errorf("Server = %q, want gnet", got)
	}
	if got := resp.Header.Get("Content-Type"); got != contentType {
		t.Errorf("Content-Type = %q, want %q", got, contentType)
	}
	if _, err := http.ParseTime(resp.Header.Get("Date")); err != nil {
		t.Errorf("Date %q: %v", resp.Header.Get("Date"), err)
	}
	if resp.ContentLength != contentLength {
		t.Errorf("Content-Length = %d, want %d", resp.ContentLength, contentLength)
	}
	if body != wantBody {
		t.Errorf("body = %q, want %q", body, wantBody)
	}
}

// wantClosed checks the server closes the connection br reads, with
// nothing sent after the response just read.
func wantClosed(t *testing.T, br *bufio.Reader) {
	t.Helper()
	if n, err := br.Read(make([]byte, 64)); !isClosed(err) {
		t.Errorf("after the last response: read = %d, %v; want EOF", n, err)
	}
}

func TestHTTPPipelined(t *testing.T) {
	t.Parallel()
	addr, _ := startServer(t, "-proto", "http")
	c := dial(t, addr)
	const n = 16
	req := "GET /plaintext HTTP/1.1\r\nHost: bench\r\n\r\n"
	if _, err := c.Write([]byte(strings.Repeat(req, n))); err != nil {
		t.Fatalf("write %d requests: %v", n, err)
	}
	br := bufio.NewReader(c)
	for i := range n {
		resp, body := readResponse(t, br, "GET")
		if resp.StatusCode != 200 || body != "Hello, World!" {
			t.Fatalf("response %d of %d: %d %q, want 200 %q", i+1, n, resp.StatusCode, body, "Hello, World!")
		}
	}
	// The connection stays open for more.
	if _, err := c.Write([]byte(req)); err != nil {
		t.Fatalf("write after the pipeline: %v", err)
	}
	resp, body := readResponse(t, br, "GET")
	wantResponse(t, resp, body, 200, "text/plain", "Hello, World!", 13)
}

func TestHTTPRoutes(t *testing.T) {
	t.Parallel()
	addr, _ := startServer(t, "-proto", "http")
	tests := []struct {
		method, target string
		status         int
		contentType    string
		body           string
		contentLength  int64
	}{
		{"GET", "/plaintext", 200, "text/plain", "Hello, World!", 13},
		{"GET", "/json", 200, "application/json", `{"message":"Hello, World!"}`, 27},
		{"HEAD", "/plaintext", 200, "text/plain", "", 13},
		{"HEAD", "/json", 200, "application/json", "", 27},
		{"GET", "/plaintext?x=1", 200, "text/plain", "Hello, World!", 13},
		{"GET", "http://bench/json", 200, "application/json", `{"message":"Hello, World!"}`, 27},
		{"GET", "/nope", 404, "text/plain", "Not Found\n", 10},
		{"GET", "/", 404, "text/plain", "Not Found\n", 10},
		{"GET", "/plaintext/", 404, "text/plain", "Not Found\n", 10},
		{"DELETE", "/plaintext", 404, "text/plain", "Not Found\n", 10},
	}
	// All on one connection, one at a time: each answer keeps it open.
	c := dial(t, addr)
	br := bufio.NewReader(c)
	for _, tt := range tests {
		req := tt.method + " " + tt.target + " HTTP/1.1\r\nHost: bench\r\n\r\n"
		if _, err := c.Write([]byte(req)); err != nil {
			t.Fatalf("%s %s: write: %v", tt.method, tt.target, err)
		}
		resp, body := readResponse(t, br, tt.method)
		if resp.Close {
			t.Errorf("%s %s: response closes the connection", tt.method, tt.target)
		}
		wantResponse(t, resp, body, tt.status, tt.contentType, tt.body, tt.contentLength)
	}
}

func TestHTTPMalformed(t *testing.T) {
	t.Parallel()
	addr, _ := startServer(t, "-proto", "http")
	tests := []struct {
		name, req string
		status    int
	}{
		{"garbage", "GARBAGE\r\n\r\n", 400},
		{"no Host", "GET /plaintext HTTP/1.1\r\n\r\n", 400},
		{"bare LF", "GET /plaintext HTTP/1.1\nHost: bench\n\n", 400},
		{"after a good one", "GET /plaintext HTTP/1.1\r\nHost: bench\r\n\r\nGET / HTTP/1.1\r\nBad Field\r\n\r\n", 400},
		{"version", "GET /plaintext HTTP/2.0\r\nHost: bench\r\n\r\n", 505},
		{"header too large", "GET /plaintext HTTP/1.1\r\nHost: bench\r\nX: " + strings.Repeat("a", 9<<10) + "\r\n\r\n", 431},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, addr)
			if _, err := c.Write([]byte(tt.req)); err != nil {
				t.Fatalf("write: %v", err)
			}
			br := bufio.NewReader(c)
			resp, _ := readResponse(t, br, "GET")
			if strings.HasPrefix(tt.name, "after") {
				if resp.StatusCode != 200 {
					t.Fatalf("first response: status %d, want 200", resp.StatusCode)
				}
				resp, _ = readResponse(t, br, "GET")
			}
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			if !resp.Close {
				t.Errorf("response to a refused request lacks Connection: close")
			}
			wantClosed(t, br)
		})
	}
}

func TestHTTPKeepAlive(t *testing.T) {
	t.Parallel()
	addr, _ := startServer(t, "-proto", "http")
	t.Run("1.0 keep-alive", func(t *testing.T) {
		c := dial(t, addr)
		br := bufio.NewReader(c)
		for range 2 {
			if _, err := c.Write([]byte("GET /plaintext HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")); err != nil {
				t.Fatalf("write: %v", err)
			}
			resp, body := readResponse(t, br, "GET")
			wantResponse(t, resp, body, 200, "text/plain", "Hello, World!", 13)
			if got := resp.Header.Get("Connection"); got != "keep-alive" {
				t.Errorf("Connection = %q, want keep-alive", got)
			}
		}
	})
	t.Run("1.0 HEAD keep-alive", func(t *testing.T) {
		c := dial(t, addr)
		br := bufio.NewReader(c)
		if _, err := c.Write([]byte("HEAD /json HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")); err != nil {
			t.Fatalf("write: %v", err)
		}
		resp, body := readResponse(t, br, "HEAD")
		wantResponse(t, resp, body, 200, "application/json", "", 27)
		if got := resp.Header.Get("Connection"); got != "keep-alive" {
			t.Errorf("Connection = %q, want keep-alive", got)
		}
	})
	for _, req := range []string{
		"GET /plaintext HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n",
		"GET /plaintext HTTP/1.0\r\n\r\n",
	} {
		t.Run(strings.Fields(req)[2]+" close", func(t *testing.T) {
			c := dial(t, addr)
			// A request after the closing one is never answered.
			if _, err := c.Write([]byte(req + "GET /json HTTP/1.1\r\nHost: bench\r\n\r\n")); err != nil {
				t.Fatalf("write: %v", err)
			}
			br := bufio.NewReader(c)
			resp, body := readResponse(t, br, "GET")
			wantResponse(t, resp, body, 200, "text/plain", "Hello, World!", 13)
			if !resp.Close {
				t.Errorf("response lacks Connection: close")
			}
			wantClosed(t, br)
		})
	}
}

// TestHTTPSplitRequests sends each request in two writes, the first ending
// right after a complete one, so the server must hold the incomplete rest
// in gnet's buffer: its answer to the complete request proves it has read
// the first write before the second is sent.
func TestHTTPSplitRequests(t *testing.T) {
	t.Parallel()
	addr, _ := startServer(t, "-proto", "http")
	c := dial(t, addr)
	br := bufio.NewReader(c)
	req := "GET /json HTTP/1.1\r\nHost: bench\r\n\r\n"
	first := "GET /plaintext HTTP/1.1\r\nHost: bench\r\n\r\n"
	if _, err := c.Write([]byte(first)); err != nil {
		t.Fatalf("write: %v", err)
	}
	resp, body := readResponse(t, br, "GET")
	wantResponse(t, resp, body, 200, "text/plain", "Hello, World!", 13)
	for cut := 1; cut < len(req); cut++ {
		// Write a whole request and the start of the next, read the
		// answer to the whole one, then write the rest.
		if _, err := c.Write([]byte(first + req[:cut])); err != nil {
			t.Fatalf("cut %d: write: %v", cut, err)
		}
		resp, body := readResponse(t, br, "GET")
		wantResponse(t, resp, body, 200, "text/plain", "Hello, World!", 13)
		if _, err := c.Write([]byte(req[cut:])); err != nil {
			t.Fatalf("cut %d: write the rest: %v", cut, err)
		}
		resp, body = readResponse(t, br, "GET")
		wantResponse(t, resp, body, 200, "application/json", `{"message":"Hello, World!"}`, 27)
	}
}

// TestHTTPAnswerAllocs checks the request path allocates nothing once a
// connection's scratch has grown: 16 pipelined requests parsed and
// answered, as OnTraffic does between Peek and Write.
func TestHTTPAnswerAllocs(t *testing.T) {
	h := newHTTPServer(newServer(config{}, io.Discard))
	hc := new(httpConn)
	in := bytes.Repeat([]byte("GET /plaintext HTTP/1.1\r\nHost: bench\r\n\r\nHEAD /json HTTP/1.1\r\nHost: bench\r\n\r\n"), 8)
	in = append(in, "GET /json HT"...) // an incomplete tail stays unused
	hc.now = time.Now()
	allocs := testing.AllocsPerRun(100, func() {
		used, closing := h.answer(hc, in)
		if closing || used != len(in)-len("GET /json HT") {
			t.Fatalf("answer = %d, %v; want %d, false", used, closing, len(in)-len("GET /json HT"))
		}
		hc.out = hc.out[:0]
	})
	if allocs != 0 {
		t.Errorf("answering 16 pipelined requests: %v allocations, want 0", allocs)
	}
}

func TestHTTPPath(t *testing.T) {
	tests := []struct{ target, want string }{
		{"/plaintext", "/plaintext"},
		{"/plaintext?a=b", "/plaintext"},
		{"/?x", "/"},
		{"http://host/json", "/json"},
		{"http://host/json?x=1", "/json"},
		{"http://host", "/"},
		{"http://host?x", "/"},
		{"host:443", "host:443"},
		{"*", "*"},
	}
	for _, tt := range tests {
		if got := string(httpPath([]byte(tt.target))); got != tt.want {
			t.Errorf("httpPath(%q) = %q, want %q", tt.target, got, tt.want)
		}
	}
}

// fakeConn is the part of gnet.Conn that httpServer.OnTraffic uses, over
// plain buffers, with the semantics of gnet v2.10.0: Peek(-1) returns all
// buffered input, and Discard(n) drops everything when n <= 0 or n covers
// it all. Any other method panics (the embedded Conn is nil).
type fakeConn struct {
	gnet.Conn
	ctx     any
	in, out []byte
}

// Context returns what SetContext stored.
func (c *fakeConn) Context() any { return c.ctx }

// SetContext stores ctx.
func (c *fakeConn) SetContext(ctx any) { c.ctx = ctx }

// Peek returns the first n buffered bytes, all of them for n <= 0.
func (c *fakeConn) Peek(n int) ([]byte, error) {
	if n > len(c.in) {
		return nil, io.ErrShortBuffer
	}
	if n <= 0 {
		n = len(c.in)
	}
	return c.in[:n], nil
}

// Discard drops the first n buffered bytes, all of them for n <= 0.
func (c *fakeConn) Discard(n int) (int, error) {
	if n <= 0 || n >= len(c.in) {
		all := len(c.in)
		c.in = c.in[:0]
		return all, nil
	}
	c.in = c.in[n:]
	return n, nil
}

// Write appends p to what was written.
func (c *fakeConn) Write(p []byte) (int, error) {
	c.out = append(c.out, p...)
	return len(p), nil
}

// TestHTTPOnTrafficChunks feeds OnTraffic a pipeline of requests in every
// chunk size from 1 byte up, so requests arrive split at every offset and
// many reads hold no complete request, and checks every response comes
// back in order and no input is left over.
func TestHTTPOnTrafficChunks(t *testing.T) {
	h := newHTTPServer(newServer(config{maxConns: -1}, io.Discard))
	reqs := []struct{ method, target, body string }{
		{"GET", "/plaintext", "Hello, World!"},
		{"GET", "/json", `{"message":"Hello, World!"}`},
		{"HEAD", "/plaintext", ""},
		{"GET", "/nope", "Not Found\n"},
	}
	var stream string
	for _, r := range reqs {
		stream += r.method + " " + r.target + " HTTP/1.1\r\nHost: bench\r\n\r\n"
	}
	for chunk := 1; chunk <= len(stream); chunk++ {
		c := new(fakeConn)
		if _, action := h.OnOpen(c); action != gnet.None {
			t.Fatalf("OnOpen = %v, want None", action)
		}
		for p := stream; len(p) > 0; {
			n := min(chunk, len(p))
			c.in = append(c.in, p[:n]...)
			p = p[n:]
			if action := h.OnTraffic(c); action != gnet.None {
				t.Fatalf("chunk %d: OnTraffic = %v, want None", chunk, action)
			}
		}
		if len(c.in) != 0 {
			t.Errorf("chunk %d: %d bytes left unconsumed: %q", chunk, len(c.in), c.in)
		}
		br := bufio.NewReader(bytes.NewReader(c.out))
		for i, r := range reqs {
			resp, err := http.ReadResponse(br, &http.Request{Method: r.method})
			if err != nil {
				t.Fatalf("chunk %d: response %d: %v", chunk, i, err)
			}
			body, err := io.ReadAll(resp.Body)
			if err != nil || string(body) != r.body {
				t.Errorf("chunk %d: response %d to %s %s: body %q, %v; want %q", chunk, i, r.method, r.target, body, err, r.body)
			}
		}
		if br.Buffered() != 0 {
			t.Errorf("chunk %d: %d bytes after the last response", chunk, br.Buffered())
		}
		h.OnClose(c, nil)
	}
}
