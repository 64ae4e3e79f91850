package main

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pinion-net/pinion/cmd/pinion/internal/wiretest"
)

// These tests send -proto http what a hostile or broken client sends, on
// both models: the server answers what it can, closes, and stays bounded
// in time and memory.

// httpExpectClosed reads from br until the connection ends and fails the
// test when response bytes arrive instead. A reset counts as the end: the
// server may close with unread input, which makes the kernel reset.
func httpExpectClosed(t *testing.T, br *bufio.Reader) {
	t.Helper()
	n, err := io.Copy(io.Discard, br)
	if n > 0 {
		t.Errorf("got %d more bytes after the refusal, want the connection closed", n)
	}
	if err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("after the refusal: got %v, want EOF or a reset", err)
	}
}

// TestHTTPRefusals sends requests the parser refuses: each is answered
// with its status and "Connection: close", and the connection closes
// without answering the valid request sent after it.
func TestHTTPRefusals(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want int
	}{
		{"garbage", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 garbage\r\n\r\n", 400},
		{"bare LF", "GET /plaintext HTTP/1.1\nHost: t\n\n", 400},
		{"space before colon", "GET /plaintext HTTP/1.1\r\nHost : t\r\n\r\n", 400},
		{"content-length and chunked", "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
		{"HTTP/2.0", "GET /plaintext HTTP/2.0\r\nHost: t\r\n\r\n", 505},
		{"gzip coding", "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
		// The body is never sent: the refusal must not wait for it.
		{"1 TiB body", "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1099511627776\r\n\r\n", 413},
	}
	forEachModel(t, func(t *testing.T, model string) {
		addr := startHTTP(t, model, nil)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				c, br := httpDial(t, addr)
				if _, err := io.WriteString(c, tt.in+wiretest.HTTPRequest("GET", "/plaintext", "", "")); err != nil {
					t.Fatalf("write: %v", err)
				}
				g, err := wiretest.ReadHTTP(br, "GET")
				if err != nil {
					t.Fatalf("read the refusal: %v", err)
				}
				if g.Status != tt.want || g.Header.Get("Connection") != "close" {
					t.Errorf("got %d with Connection %q, want %d with close", g.Status, g.Header.Get("Connection"), tt.want)
				}
				httpExpectClosed(t, br)
			})
		}
	})
}

// TestHTTPHeadRefusals sends HEAD requests the parser refuses, refused in
// the request line, in a header field (also sent in two writes), and over
// the header limit: each answer has the refusal's status,
// Content-Length and "Connection: close", and no body (RFC 9110 §9.3.2),
// so the connection ends right after the header section. The same
// requests as GET get the body, which shows the check can see one.
func TestHTTPHeadRefusals(t *testing.T) {
	// huge is a request line and header section of exactly -max-header
	// bytes (the default, 8 KiB) that never ends: nothing is left unread.
	huge := func(m string) string { return m + string(httpHugeHeader(8<<10 - len(m) + len("GET")))[len("GET"):] }
	tests := []struct {
		name   string
		pieces []string // the first starts with the method, "M"
		want   int
	}{
		{"non-ASCII target", []string{"M /caf\xc3\xa9 HTTP/1.1\r\nHost: t\r\n\r\n"}, 400},
		{"space before colon", []string{"M /plaintext HTTP/1.1\r\nHost : t\r\n\r\n"}, 400},
		{"in two writes", []string{"M /plaintext HTTP/1.1\r\nHo", "st: t\r\nX-A: \x01\r\n\r\n"}, 400},
		{"HTTP/2.0", []string{"M /plaintext HTTP/2.0\r\nHost: t\r\n\r\n"}, 505},
		{"header too large", nil, 431},
	}
	forEachModel(t, func(t *testing.T, model string) {
		addr := startHTTP(t, model, nil)
		for _, tt := range tests {
			for _, method := range []string{"HEAD", "GET"} {
				t.Run(tt.name+"/"+method, func(t *testing.T) {
					c, _ := httpDial(t, addr)
					pieces := tt.pieces
					if pieces == nil {
						pieces = []string{huge(method)}
					}
					for i, p := range pieces {
						if i == 0 && strings.HasPrefix(p, "M ") {
							p = method + p[1:]
						}
						if _, err := io.WriteString(c, p); err != nil {
							t.Fatalf("write: %v", err)
						}
					}
					raw, err := io.ReadAll(c)
					if err != nil && !errors.Is(err, syscall.ECONNRESET) {
						t.Fatalf("read until close: %v", err)
					}
					head, body, ok := strings.Cut(string(raw), "\r\n\r\n")
					status := "HTTP/1.1 " + strconv.Itoa(tt.want) + " "
					if !ok || !strings.HasPrefix(head, status) || !strings.Contains(head, "\r\nConnection: close") {
						t.Fatalf("got %q, want a %d response with Connection: close", raw, tt.want)
					}
					wantBody := http.StatusText(tt.want) + "\n"
					if tt.want == 413 {
						wantBody = "Content Too Large\n"
					}
					if method == "HEAD" {
						wantBody = ""
					}
					if body != wantBody || !strings.Contains(head, "\r\nContent-Length: "+strconv.Itoa(len(http.StatusText(tt.want))+1)) {
						t.Errorf("got %q, want Content-Length %d and body %q", raw, len(http.StatusText(tt.want))+1, wantBody)
					}
				})
			}
		}
	})
}

// httpHugeHeader is the first size bytes of a request whose header section
// never ends.
func httpHugeHeader(size int) []byte {
	b := []byte("GET /plaintext HTTP/1.1\r\nHost: t\r\nX-Huge: ")
	return append(b, strings.Repeat("h", max(size-len(b), 0))...)[:size]
}

// TestHTTPHugeHeader sends a 1 MiB header section. The server answers 431
// as soon as -max-header bytes arrived: the test writes 64 KiB, reads the
// answer, and only then writes the rest, which may fail with a reset as
// the server has closed. The server then serves others as before.
func TestHTTPHugeHeader(t *testing.T) {
	huge := httpHugeHeader(1 << 20)
	const first = 64 << 10
	forEachModel(t, func(t *testing.T, model string) {
		addr := startHTTP(t, model, nil)
		c, br := httpDial(t, addr)
		if _, err := c.Write(huge[:first]); err != nil {
			t.Fatalf("write the first %d bytes: %v", first, err)
		}
		g, err := wiretest.ReadHTTP(br, "GET")
		if err != nil {
			t.Fatalf("read the answer to %d bytes of header: %v", first, err)
		}
		if g.Status != 431 || g.Header.Get("Connection") != "close" {
			t.Errorf("got %d with Connection %q, want 431 with close", g.Status, g.Header.Get("Connection"))
		}
		if _, err := c.Write(huge[first:]); err != nil && !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, syscall.EPIPE) {
			t.Errorf("write the rest: got %v, want success, a reset or a broken pipe", err)
		}
		httpExpectClosed(t, br)

		// One writer of the whole MiB and a reader at once, as a client
		// that does not wait: the status line must arrive before any reset.
		c, br = httpDial(t, addr)
		go func() { _, _ = c.Write(huge) }() // fails once the server closes; the cleanup closes c
		g, err = wiretest.ReadHTTP(br, "GET")
		if err != nil {
			t.Fatalf("read the answer while writing 1 MiB: %v", err)
		}
		if g.Status != 431 {
			t.Errorf("while writing 1 MiB: got %d, want 431", g.Status)
		}

		c, br = httpDial(t, addr)
		if _, err := io.WriteString(c, wiretest.HTTPRequest("GET", "/plaintext", "", "")); err != nil {
			t.Fatalf("write: %v", err)
		}
		if g, err := wiretest.ReadHTTP(br, "GET"); err != nil {
			t.Fatalf("a request after the huge header: %v", err)
		} else {
			wiretest.Hello.Check(t, 0, g)
		}
	})
}

// TestHTTPTrickle sends a request one byte every 100 ms, never finishing
// it, with -header-timeout 500ms: the server closes the connection about
// the timeout after the first byte although bytes keep coming.
func TestHTTPTrickle(t *testing.T) {
	const (
		timeout = 500 * time.Millisecond
		most    = 50 // bytes, 5 s: the writer gives up after that
	)
	forEachModel(t, func(t *testing.T, model string) {
		addr := startHTTP(t, model, func(c *serveConfig) { c.headerTimeout = timeout })
		c, br := httpDial(t, addr)
		closed := make(chan struct{})
		start := time.Now()
		go func() {
			defer close(closed)
			_, _ = io.Copy(io.Discard, br) // ends at EOF or reset
		}()
		req := httpHugeHeader(most)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		sent := 0
	trickle:
		for sent < most {
			if _, err := c.Write(req[sent : sent+1]); err != nil {
				break // the server closed: the reader sees it too
			}
			sent++
			select {
			case <-closed:
				break trickle
			case <-tick.C:
			}
		}
		select {
		case <-closed:
		case <-time.After(5 * time.Second):
			t.Fatalf("connection still open %v after the first byte (%d bytes sent), want closed after the %v header timeout", time.Since(start), sent, timeout)
		}
		if d := time.Since(start); d < 400*time.Millisecond || d > 2*time.Second {
			t.Errorf("closed %v after the first byte (%d bytes sent), want 0.4 s to 2 s with a %v header timeout", d, sent, timeout)
		}
	})
}

// TestHTTPUnderAttack runs 50 connections that each send a 1 MiB header
// and 50 that trickle a request one byte every 100 ms. Once all have
// started, another connection asks for /plaintext every 100 ms while the
// trickles go on: each is answered promptly, and the process's heap stays
// small, since the server never holds more than -max-header bytes of a
// header.
func TestHTTPUnderAttack(t *testing.T) {
	const (
		attackers = 50
		heapLimit = 64 << 20
		trickles  = 15 // bytes each trickler sends, 1.5 s
		asks      = 10 // /plaintext requests, 1 s
	)
	huge := httpHugeHeader(1 << 20) // shared by every writer: the client side must not fill the heap
	forEachModel(t, func(t *testing.T, model string) {
		addr := startHTTP(t, model, func(c *serveConfig) { c.headerTimeout = 5 * time.Second })

		// The heap, sampled every 10 ms until the attack is over.
		var heapMax uint64
		stopSampling := make(chan struct{})
		sampled := make(chan struct{})
		go func() {
			defer close(sampled)
			tick := time.NewTicker(10 * time.Millisecond)
			defer tick.Stop()
			var ms runtime.MemStats
			for {
				runtime.ReadMemStats(&ms)
				heapMax = max(heapMax, ms.HeapInuse)
				select {
				case <-stopSampling:
					return
				case <-tick.C:
				}
			}
		}()

		var wg, started sync.WaitGroup
		for range attackers {
			c, br := httpDial(t, addr)
			wg.Add(3) // writer, reader, trickler
			started.Add(2)
			go func() { // a huge header: 64 KiB, then the rest
				defer wg.Done()
				_, err := c.Write(huge[:64<<10])
				started.Done()
				if err == nil {
					_, _ = c.Write(huge[64<<10:]) // fails once the server closes
				}
			}()
			go func() { // its answer
				defer wg.Done()
				_, _ = io.Copy(io.Discard, br)
			}()

			tc, _ := httpDial(t, addr)
			go func() { // a trickle
				defer wg.Done()
				tick := time.NewTicker(100 * time.Millisecond)
				defer tick.Stop()
				for i := range trickles {
					_, err := tc.Write(huge[i : i+1])
					if i == 0 {
						started.Done()
					}
					if err != nil {
						return
					}
					<-tick.C
				}
			}()
		}
		started.Wait()

		// A client that should not notice.
		c, br := httpDial(t, addr)
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		slowest := time.Duration(0)
		for i := range asks {
			start := time.Now()
			if _, err := io.WriteString(c, wiretest.HTTPRequest("GET", "/plaintext", "", "")); err != nil {
				t.Fatalf("write /plaintext %d during the attack: %v", i, err)
			}
			g, err := wiretest.ReadHTTP(br, "GET")
			if err != nil {
				t.Fatalf("/plaintext %d during the attack: %v", i, err)
			}
			wiretest.Hello.Check(t, i, g)
			slowest = max(slowest, time.Since(start))
			<-tick.C
		}

		wg.Wait()
		close(stopSampling)
		<-sampled
		t.Logf("%s: %d /plaintext answered during the attack, the slowest in %v; largest HeapInuse %.1f MiB",
			model, asks, slowest, float64(heapMax)/(1<<20))
		if slowest > time.Second {
			t.Errorf("the slowest /plaintext took %v during the attack, want under 1 s", slowest)
		}
		if heapMax > heapLimit {
			t.Errorf("HeapInuse reached %d bytes, want under %d", heapMax, heapLimit)
		}
	})
}
