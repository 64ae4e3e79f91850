package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pinion-net/pinion/internal/tcptest"
)

// The proxy's limits on both models: memory held for a client that stops
// reading, -max-conns, an upstream that resets or half-closes first, and
// the log line of an unreachable upstream.

// Watermarks of the loop model's proxy in these tests: the engine's
// defaults (Config.WriteHigh) and the serve flags' -read-buffer.
const (
	proxyWriteHigh = 256 << 10
	proxyReadBuf   = 64 << 10
)

// heapInUse returns the live heap after a collection.
func heapInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// TestProxySlowReader: a client that sends without reading its echo fills
// the path, and then the proxy stops reading it instead of queueing. The
// bytes the loop proxy owes stay under the watermarks: at most WriteHigh
// plus one read per direction (Stats.OutboundPeak, measured over the whole
// run). The live heap of the test process, which holds the proxy, its echo
// backend and the client, grows by a bounded amount on both models. Once
// the client reads again, every byte comes back in order.
func TestProxySlowReader(t *testing.T) {
	const heapBound = 8 << 20
	forEachModel(t, func(t *testing.T, model string) {
		b := startEchoBackend(t)
		srv := startServer(t, model, func(c *serveConfig) {
			c.proto, c.upstream, c.connectTimeout = "proxy", b.addr(), 2*time.Second
			c.readBuf = proxyReadBuf
		})
		chunk := make([]byte, 64<<10)
		r := rand.New(rand.NewPCG(3, 4))
		for i := range chunk {
			chunk[i] = byte(r.Uint32())
		}
		base := heapInUse()
		c, err := net.DialTimeout("tcp", srv.addr(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// Write until the whole path is full: a write that makes no
		// progress for 300ms.
		sent := 0
		for {
			_ = c.SetWriteDeadline(time.Now().Add(300 * time.Millisecond))
			n, err := c.Write(chunk[sent%len(chunk):])
			sent += n
			if errors.Is(err, os.ErrDeadlineExceeded) {
				break
			}
			if err != nil {
				t.Fatalf("write after %d bytes: %v", sent, err)
			}
			if sent > 1<<30 {
				t.Fatal("1 GiB written to a client that reads nothing: nothing pushes back")
			}
		}
		grown := heapInUse() - base
		t.Logf("%s: %d bytes sent before the path was full; heap grew %d bytes", model, sent, grown)
		if grown > heapBound {
			t.Errorf("heap grew %d bytes while the client did not read, want at most %d", grown, heapBound)
		}
		if ls, ok := srv.(*loopServer); ok {
			peak := ls.e.Stats().OutboundPeak
			t.Logf("loop: owed bytes peaked at %d", peak)
			if limit := int64(2 * (proxyWriteHigh + proxyReadBuf)); peak > limit {
				t.Errorf("owed bytes peaked at %d, want at most %d (WriteHigh plus one read, per direction)", peak, limit)
			}
		}
		// Now read: the paused sides resume and everything comes back.
		_ = c.SetWriteDeadline(time.Time{})
		_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
		if err := c.(*net.TCPConn).CloseWrite(); err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(c)
		if err != nil {
			t.Fatalf("read %d of %d bytes, then: %v", len(got), sent, err)
		}
		if len(got) != sent {
			t.Fatalf("got %d bytes then EOF, want %d", len(got), sent)
		}
		for off := 0; off < len(got); off += len(chunk) {
			part := got[off:min(off+len(chunk), len(got))]
			if !bytes.Equal(part, chunk[:len(part)]) {
				t.Fatalf("echoed bytes differ in [%d, %d)", off, off+len(part))
			}
		}
	})
}

// roundTrip sends p on c and reads it back.
func roundTrip(c net.Conn, p []byte) error {
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(p); err != nil {
		return err
	}
	got := make([]byte, len(p))
	if _, err := io.ReadFull(c, got); err != nil {
		return err
	}
	if !bytes.Equal(got, p) {
		return fmt.Errorf("echo %q, want %q", got, p)
	}
	return nil
}

// TestProxyMaxConns: with -max-conns 3, three clients are relayed, a
// fourth is closed at once without an upstream connection, and a slot
// freed by a client that leaves serves a new one.
func TestProxyMaxConns(t *testing.T) {
	const limit = 3
	forEachModel(t, func(t *testing.T, model string) {
		b := startEchoBackend(t)
		addr := startProxy(t, model, b.addr(), func(c *serveConfig) { c.maxConns = limit })
		var held []net.Conn
		for i := range limit {
			c, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if err := roundTrip(c, []byte("hello")); err != nil {
				t.Fatalf("client %d of %d: %v", i+1, limit, err)
			}
			held = append(held, c)
		}
		assertClosedWithin(t, addr, 2*time.Second)
		if n := b.open.Load(); n != limit {
			t.Errorf("backend has %d connections, want %d", n, limit)
		}
		held[0].Close()
		waitUntil(t, 5*time.Second, "a freed slot to serve a new client", func() bool {
			c, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				return false
			}
			defer c.Close()
			return roundTrip(c, []byte("again")) == nil
		})
	})
}

// resetBackend accepts connections, reads from each until it has n bytes,
// then resets it (SO_LINGER 0).
func resetBackend(t *testing.T, n int) string {
	t.Helper()
	return tcptest.Serve(t, func(c net.Conn) {
		_, _ = io.ReadFull(c, make([]byte, n))
		_ = c.(*net.TCPConn).SetLinger(0)
	})
}

// TestProxyUpstreamReset: an upstream that resets mid-stream gets its
// client closed promptly (reset or end of file, not a hang), and the proxy
// keeps no descriptor of the pair.
func TestProxyUpstreamReset(t *testing.T) {
	forEachModel(t, func(t *testing.T, model string) {
		addr := startProxy(t, model, resetBackend(t, 1<<10), nil)
		before := openSockets(t)
		for i := range 20 {
			c, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := c.Write(make([]byte, 4<<10)); err != nil {
				t.Fatalf("client %d: %v", i, err)
			}
			// The echo never comes: the read ends with the upstream's
			// reset passed on, or an end of file, within the deadline.
			if _, err := io.Copy(io.Discard, c); errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("client %d still open 5s after its upstream reset", i)
			}
			c.Close()
		}
		waitUntil(t, 5*time.Second, "descriptors back to the baseline", func() bool { return openSockets(t) <= before })
	})
}

// greetBackend sends greeting, shuts its write side, waits for start to
// be closed, then reads everything until the client's FIN and sends what
// it read on got, which must have room. The test connects once.
func greetBackend(t *testing.T, greeting []byte, start <-chan struct{}, got chan<- []byte) string {
	t.Helper()
	return tcptest.Serve(t, func(c net.Conn) {
		if _, err := c.Write(greeting); err != nil {
			got <- nil
			return
		}
		_ = c.(*net.TCPConn).CloseWrite()
		select {
		case <-start:
		case <-t.Context().Done(): // the test failed before it started the upload
			return
		}
		b, _ := io.ReadAll(c)
		got <- b
	})
}

// TestProxyUpstreamHalfClosesFirst: the upstream answers and shuts its
// side before it reads the request (as a server that refuses an upload
// politely may): the client gets the answer and end of file, and may still
// send; every byte it sends reaches the upstream, also those that waited
// in the proxy while the upstream was not reading.
func TestProxyUpstreamHalfClosesFirst(t *testing.T) {
	forEachModel(t, func(t *testing.T, model string) {
		for _, size := range []int{1, 64 << 10, 16 << 20} {
			t.Run(fmt.Sprint(size), func(t *testing.T) {
				greeting := []byte("412 not now\r\n")
				start, got := make(chan struct{}), make(chan []byte, 1)
				addr := startProxy(t, model, greetBackend(t, greeting, start, got), nil)
				c, err := net.DialTimeout("tcp", addr, 5*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(60 * time.Second))
				payload := make([]byte, size)
				r := rand.New(rand.NewPCG(uint64(size), 1))
				for i := range payload {
					payload[i] = byte(r.Uint32())
				}
				sent := make(chan error, 1)
				go func() {
					_, err := c.Write(payload)
					if err == nil {
						err = c.(*net.TCPConn).CloseWrite()
					}
					sent <- err
				}()
				answer, err := io.ReadAll(c)
				if err != nil || !bytes.Equal(answer, greeting) {
					t.Fatalf("read %q, %v; want %q then EOF", answer, err, greeting)
				}
				close(start) // the upstream reads only now
				if err := <-sent; err != nil {
					t.Fatalf("client write: %v", err)
				}
				b := <-got
				if len(b) != size || firstDiff(b, payload) >= 0 {
					t.Fatalf("upstream got %d bytes (first difference at %d), want the %d sent", len(b), firstDiff(b, payload), size)
				}
			})
		}
	})
}

// TestProxyUpstreamDownLogged: an unreachable upstream is logged as a
// warning that names it and the cause; a burst of failures on the loop
// model logs one line, not one per client.
func TestProxyUpstreamDownLogged(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := ln.Addr().String()
	ln.Close()
	forEachModel(t, func(t *testing.T, model string) {
		var logs lockedBuffer
		cfg := serveConfig{
			addr: "127.0.0.1:0", proto: "proxy", model: model, loops: 1, maxConns: -1,
			idleTimeout: time.Minute, readBuf: 64 << 10, offloadPolicy: "pause",
			upstream: down, connectTimeout: time.Second,
		}
		log := slog.New(slog.NewTextHandler(&logs, nil))
		var srv server
		if model == "loop" {
			srv, err = startLoopServer(cfg, nil, log)
		} else {
			srv, err = startGoroutineServer(cfg, nil, log)
		}
		if err != nil {
			t.Fatal(err)
		}
		defer srv.shutdown(t.Context())
		const clients = 10
		for range clients {
			assertClosedWithin(t, srv.addr(), time.Second)
		}
		out := logs.String()
		lines := strings.Count(out, "cannot connect to the upstream")
		if lines == 0 || !strings.Contains(out, "upstream="+down) || !strings.Contains(out, "refused") {
			t.Fatalf("log %q: want a line naming the upstream %s and the refusal", out, down)
		}
		if model == "loop" && lines != 1 {
			t.Errorf("%d lines for %d failures within a second, want 1:\n%s", lines, clients, out)
		}
	})
}

// duplexBackend streams size bytes to each connection while it reads, in
// another goroutine, everything the client sends until its FIN; the count
// read goes to got, which must have room. The two directions depend on
// nothing of each other. The test connects once.
func duplexBackend(t *testing.T, size int, got chan<- int) string {
	t.Helper()
	return tcptest.Serve(t, func(c net.Conn) {
		wrote := make(chan struct{})
		go func() {
			defer close(wrote)
			_, _ = c.Write(make([]byte, size))
			_ = c.(*net.TCPConn).CloseWrite()
		}()
		n, _ := io.Copy(io.Discard, c)
		got <- int(n)
		<-wrote
	})
}

// TestProxyDirectionsIndependent: the two directions of a pair are
// relayed independently, as over a direct connection. The upstream
// streams 16 MiB while the client uploads 16 MiB and reads only once its
// upload is done: the owed bytes of one direction must not stop the other,
// or both ends wait for each other forever.
func TestProxyDirectionsIndependent(t *testing.T) {
	const size = 16 << 20
	forEachModel(t, func(t *testing.T, model string) {
		got := make(chan int, 1)
		addr := startProxy(t, model, duplexBackend(t, size, got), nil)
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(20 * time.Second))
		if _, err := c.Write(make([]byte, size)); err != nil {
			t.Fatalf("upload: %v (the proxy stopped reading the client while its download was owed)", err)
		}
		if err := c.(*net.TCPConn).CloseWrite(); err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(io.Discard, c)
		if err != nil || n != size {
			t.Fatalf("download: %d bytes, %v; want %d then EOF", n, err, size)
		}
		if up := <-got; up != size {
			t.Fatalf("upstream got %d bytes, want %d", up, size)
		}
	})
}
