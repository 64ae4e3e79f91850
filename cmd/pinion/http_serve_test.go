package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pinion-net/pinion/cmd/pinion/internal/wiretest"
)

// startHTTP starts -proto http on a model, changed by mutate when it is
// not nil.
func startHTTP(t *testing.T, model string, mutate func(*serveConfig)) string {
	t.Helper()
	return startModel(t, model, func(c *serveConfig) {
		c.proto = "http"
		c.offloadWorkers, c.offloadQueue = 8, 64
		if mutate != nil {
			mutate(c)
		}
	})
}

// httpDial connects to addr with a deadline for the whole test step; the
// connection is closed when the test ends.
func httpDial(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	return c, bufio.NewReader(c)
}

// TestHTTPKeepAlivePipelined sends 100 pipelined requests on one
// connection, twice, to both models, and checks each response in order.
func TestHTTPKeepAlivePipelined(t *testing.T) {
	forEachModel(t, func(t *testing.T, model string) {
		addr := startHTTP(t, model, nil)
		c, br := httpDial(t, addr)
		for round := range 2 {
			var in bytes.Buffer
			var want []wiretest.HTTPWant
			for i := range 100 {
				switch i % 3 {
				case 0:
					in.WriteString(wiretest.HTTPRequest("GET", "/plaintext", "", ""))
					want = append(want, wiretest.Hello)
				case 1:
					in.WriteString(wiretest.HTTPRequest("GET", "/json", "", ""))
					want = append(want, wiretest.JSON)
				case 2:
					body := fmt.Sprintf("round %d request %d", round, i)
					in.WriteString(wiretest.HTTPRequest("POST", "/echo", "", body))
					want = append(want, wiretest.HTTPWant{Status: 200, Body: body})
				}
			}
			if _, err := c.Write(in.Bytes()); err != nil {
				t.Fatalf("write: %v", err)
			}
			for i, w := range want {
				g, err := wiretest.ReadHTTP(br, "GET")
				if err != nil {
					t.Fatalf("round %d response %d: %v", round, i, err)
				}
				w.Check(t, i, g)
			}
		}
	})
}

// TestHTTPBlockInOrder pipelines /block requests between others: the
// responses come back in request order, the blocked one no sooner than its
// delay, and the connection stays usable.
func TestHTTPBlockInOrder(t *testing.T) {
	forEachModel(t, func(t *testing.T, model string) {
		addr := startHTTP(t, model, nil)
		c, br := httpDial(t, addr)
		ok := wiretest.HTTPWant{Status: 200, Body: "ok"}
		reqs := []struct {
			target string
			want   wiretest.HTTPWant
		}{
			{"/plaintext", wiretest.Hello},
			{"/block?ms=20", ok},
			{"/plaintext", wiretest.Hello},
			{"/block?ms=1", ok},
			{"/json", wiretest.JSON},
			{"/block?ms=bad", wiretest.HTTPWant{Status: 400, Body: "ms must be an integer from 0 to 10000\n"}},
			{"/block?ms=0", ok},
			{"/plaintext", wiretest.Hello},
		}
		var in strings.Builder
		for _, r := range reqs {
			in.WriteString(wiretest.HTTPRequest("GET", r.target, "", ""))
		}
		start := time.Now()
		if _, err := io.WriteString(c, in.String()); err != nil {
			t.Fatalf("write: %v", err)
		}
		for i, r := range reqs {
			g, err := wiretest.ReadHTTP(br, "GET")
			if err != nil {
				t.Fatalf("response %d (%s): %v", i, r.target, err)
			}
			r.want.Check(t, i, g)
		}
		if d := time.Since(start); d < 21*time.Millisecond {
			t.Errorf("all responses in %v, want at least the 21 ms of blocking", d)
		}
		if _, err := io.WriteString(c, wiretest.HTTPRequest("GET", "/json", "", "")); err != nil {
			t.Fatalf("write after the batch: %v", err)
		}
		g, err := wiretest.ReadHTTP(br, "GET")
		if err != nil {
			t.Fatalf("response after the batch: %v", err)
		}
		wiretest.JSON.Check(t, 0, g)
	})
}

// TestHTTPSplitStream writes a long pipelined stream in pieces that end
// inside requests, every 20 ms for longer than the header timeout: each
// request arrives whole well within the timeout, so the connection must
// stay open though some request is always partial.
func TestHTTPSplitStream(t *testing.T) {
	const (
		timeout = 300 * time.Millisecond
		pieces  = 40 // 40 × 20 ms: well past the timeout
		piece   = 50 // bytes; a request is 39, so most pieces end inside one
	)
	forEachModel(t, func(t *testing.T, model string) {
		addr := startHTTP(t, model, func(c *serveConfig) { c.headerTimeout = timeout })
		c, br := httpDial(t, addr)
		req := wiretest.HTTPRequest("GET", "/plaintext", "", "")
		stream := strings.Repeat(req, pieces*piece/len(req)+1)
		stream = stream[:len(stream)/len(req)*len(req)]
		nreq := len(stream) / len(req)
		werr := make(chan error, 1)
		go func() {
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			for off := 0; off < len(stream); off += piece {
				if _, err := io.WriteString(c, stream[off:min(off+piece, len(stream))]); err != nil {
					werr <- err
					return
				}
				<-tick.C
			}
			werr <- nil
		}()
		for i := range nreq {
			g, err := wiretest.ReadHTTP(br, "GET")
			if err != nil {
				t.Fatalf("response %d of %d: %v (the stream took more than the header timeout; each request did not)", i, nreq, err)
			}
			wiretest.Hello.Check(t, i, g)
		}
		if err := <-werr; err != nil {
			t.Fatalf("write: %v", err)
		}
	})
}

// TestHTTPSplitMixed writes a pipelined stream of every kind of request
// (GET, HEAD, POST with Content-Length, chunked POST with trailers) in
// pieces of 7 bytes, so that most reads end inside a request line, a
// field, a chunk or a trailer and the parse resumes there: every response
// arrives, in order, with the body it should have.
func TestHTTPSplitMixed(t *testing.T) {
	var stream strings.Builder
	var methods []string
	var want []wiretest.HTTPWant
	for i := range 40 {
		switch i % 4 {
		case 0:
			stream.WriteString(wiretest.HTTPRequest("GET", "/json", "User-Agent: split\r\n", ""))
			methods, want = append(methods, "GET"), append(want, wiretest.JSON)
		case 1:
			stream.WriteString(wiretest.HTTPRequest("HEAD", "/plaintext", "", ""))
			methods, want = append(methods, "HEAD"), append(want, wiretest.HTTPWant{Status: 200, Body: "", Header: map[string]string{"Content-Length": "13"}})
		case 2:
			body := fmt.Sprintf("body of request %d", i)
			stream.WriteString(wiretest.HTTPRequest("POST", "/echo", "", body))
			methods, want = append(methods, "POST"), append(want, wiretest.HTTPWant{Status: 200, Body: body})
		case 3:
			stream.WriteString("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" +
				"4;x=y\r\nabcd\r\n3\r\nefg\r\n0\r\nX-Trailer: 1\r\n\r\n")
			methods, want = append(methods, "POST"), append(want, wiretest.HTTPWant{Status: 200, Body: "abcdefg"})
		}
	}
	forEachModel(t, func(t *testing.T, model string) {
		addr := startHTTP(t, model, nil)
		c, br := httpDial(t, addr)
		werr := make(chan error, 1)
		go func() {
			s := stream.String()
			for off := 0; off < len(s); off += 7 {
				if _, err := io.WriteString(c, s[off:min(off+7, len(s))]); err != nil {
					werr <- err
					return
				}
			}
			werr <- nil
		}()
		for i := range want {
			g, err := wiretest.ReadHTTP(br, methods[i])
			if err != nil {
				t.Fatalf("response %d of %d: %v", i, len(want), err)
			}
			want[i].Check(t, i, g)
		}
		if err := <-werr; err != nil {
			t.Fatalf("write: %v", err)
		}
	})
}
