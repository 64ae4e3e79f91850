package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// drainStart starts srv's drain on a goroutine and returns when it began
// and the channel its result arrives on.
func drainStart(srv server, d time.Duration) (time.Time, <-chan error) {
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		done <- srv.drain(ctx)
	}()
	return start, done
}

// waitRefused waits until a connect to addr is refused: the drain has
// closed the listening sockets.
func waitRefused(t *testing.T, addr string) {
	t.Helper()
	waitUntil(t, 5*time.Second, "new connections refused", func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
}

// expectEOF reads from c until the server's FIN, failing on any byte or
// another error (a reset), and returns when it came.
func expectEOF(t *testing.T, r io.Reader, c net.Conn, what string) time.Time {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := r.Read(make([]byte, 1))
	if n != 0 || !errors.Is(err, io.EOF) {
		t.Fatalf("%s: got %d bytes, %v; want the server's FIN", what, n, err)
	}
	return time.Now()
}

// httpGet sends GET path on c and reads the response.
func httpGet(t *testing.T, c net.Conn, br *bufio.Reader, path string) *http.Response {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte("GET " + path + " HTTP/1.1\r\nHost: t\r\n\r\n")); err != nil {
		t.Fatalf("write GET %s: %v", path, err)
	}
	r, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	if _, err := io.Copy(io.Discard, r.Body); err != nil {
		t.Fatalf("GET %s body: %v", path, err)
	}
	r.Body.Close()
	return r
}

// TestDrainHTTP, on both models: during a drain a new connection is
// refused; a request on a keep-alive connection is answered, with
// "Connection: close", and the connection then ends with the server's FIN
// (no reset); a connection idle when the drain starts is closed only once
// it stayed idle for -drain-grace; the drain returns once both are gone.
func TestDrainHTTP(t *testing.T) {
	const grace = 400 * time.Millisecond
	forEachModel(t, func(t *testing.T, model string) {
		srv := startServer(t, model, func(c *serveConfig) { c.proto = "http"; c.drainGrace = grace })
		var conns [2]net.Conn
		var readers [2]*bufio.Reader
		for i := range conns {
			c, err := net.DialTimeout("tcp", srv.addr(), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			conns[i], readers[i] = c, bufio.NewReader(c)
			if r := httpGet(t, c, readers[i], "/plaintext"); r.StatusCode != 200 || r.Close {
				t.Fatalf("before the drain: status %d, close %v", r.StatusCode, r.Close)
			}
		}
		start, done := drainStart(srv, 20*time.Second)
		waitRefused(t, srv.addr())
		busy, idle := conns[0], conns[1]
		if time.Since(start) < grace/2 {
			r := httpGet(t, busy, readers[0], "/json")
			if r.StatusCode != 200 || !r.Close {
				t.Errorf("request during the drain: status %d, Connection: close %v; want 200 and close", r.StatusCode, r.Close)
			}
			expectEOF(t, readers[0], busy, "after the drain's response")
			busy.Close() // as a client does at EOF: the server's lingering close ends
		} else {
			t.Logf("slow machine: %v passed before the first request, not testing it", time.Since(start))
		}
		closed := expectEOF(t, readers[1], idle, "idle connection")
		idle.Close()
		if d := closed.Sub(start); d < grace {
			t.Errorf("idle connection closed %v after the drain began, before the %v grace", d, grace)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("drain: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("drain did not end once its connections were gone")
		}
		t.Logf("%s: idle connection closed %v after the drain began; drain took %v", model,
			closed.Sub(start).Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	})
}

// TestDrainRESPEcho, on both models: RESP and echo answer what arrives
// during a drain and then end the connection with a FIN.
func TestDrainRESPEcho(t *testing.T) {
	for _, tc := range []struct{ proto, send, want string }{
		{"resp", "*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n", "+PONG\r\n$2\r\nhi\r\n"},
		{"echo", "hello, drain", "hello, drain"},
	} {
		forEachModel(t, func(t *testing.T, model string) {
			srv := startServer(t, model, func(c *serveConfig) { c.proto = tc.proto; c.drainGrace = 5 * time.Second })
			c, err := net.DialTimeout("tcp", srv.addr(), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			// One exchange first: a connection still in the accept queue
			// when the listener closes would be reset by the kernel.
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := c.Write([]byte(tc.send)); err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadFull(c, make([]byte, len(tc.want))); err != nil {
				t.Fatalf("%s before the drain: %v", tc.proto, err)
			}
			_, done := drainStart(srv, 20*time.Second)
			waitRefused(t, srv.addr())
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := c.Write([]byte(tc.send)); err != nil {
				t.Fatal(err)
			}
			got := make([]byte, len(tc.want))
			if _, err := io.ReadFull(c, got); err != nil || string(got) != tc.want {
				t.Fatalf("%s during the drain: got %q, %v; want %q", tc.proto, got, err, tc.want)
			}
			expectEOF(t, c, c, tc.proto+" after its replies")
			c.Close()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("drain: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("drain did not end")
			}
		})
	}
}
