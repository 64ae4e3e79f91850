package main

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pinion-net/pinion/internal/tcptest"
)

// echoBackend is the upstream of the proxy tests: it echoes every byte and
// answers the client's half-close with its own once everything is echoed
// (tcptest.Echo). open counts its connections, so a test can see that the
// proxy closed the upstream side of a pair.
type echoBackend struct {
	address string
	open    atomic.Int64
}

func startEchoBackend(t testing.TB) *echoBackend {
	t.Helper()
	b := &echoBackend{}
	b.address = tcptest.Serve(t, func(c net.Conn) {
		b.open.Add(1)
		defer b.open.Add(-1)
		defer c.Close() // before the count drops: a test may count descriptors next
		tcptest.Echo(c)
	})
	return b
}

func (b *echoBackend) addr() string { return b.address }

func startProxy(t testing.TB, model, upstream string, mutate func(*serveConfig)) string {
	t.Helper()
	return startModel(t, model, func(c *serveConfig) {
		c.proto, c.upstream, c.connectTimeout = "proxy", upstream, 2*time.Second
		if mutate != nil {
			mutate(c)
		}
	})
}

// halfCloseOnce sends payload in random chunks, then half-closes, and
// reads until end of file: the echo must be every byte, in order, and then
// EOF.
func halfCloseOnce(addr string, payload []byte, seed uint64) error {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(60 * time.Second))
	werr := make(chan error, 1)
	go func() {
		r := rand.New(rand.NewPCG(seed, 2))
		for p := payload; len(p) > 0; {
			n := min(len(p), 1+r.IntN(256<<10))
			if _, err := c.Write(p[:n]); err != nil {
				werr <- err
				return
			}
			p = p[n:]
		}
		werr <- c.(*net.TCPConn).CloseWrite()
	}()
	got, err := io.ReadAll(c)
	if err != nil {
		return fmt.Errorf("read %d of %d bytes, then: %w", len(got), len(payload), err)
	}
	if err := <-werr; err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if len(got) != len(payload) {
		return fmt.Errorf("got %d bytes then EOF, want %d", len(got), len(payload))
	}
	if i := firstDiff(got, payload); i >= 0 {
		return fmt.Errorf("%d bytes differ first at byte %d", len(payload), i)
	}
	return nil
}

// TestProxyIntegrityHalfClose: 200 connections through the proxy to an
// echo backend, 1 B to 8 MiB each in random chunks, each client
// half-closing once it has sent everything: every byte comes back in order,
// then EOF, and no connection is left open on the backend.
func TestProxyIntegrityHalfClose(t *testing.T) {
	const conns, parallel = 200, 50
	forEachModel(t, func(t *testing.T, model string) {
		b := startEchoBackend(t)
		addr := startProxy(t, model, b.addr(), nil)
		r := rand.New(rand.NewPCG(9, 9))
		sizes := make([]int, conns)
		for i := range sizes {
			switch i {
			case 0:
				sizes[i] = 1
			case 1:
				sizes[i] = 8 << 20
			default:
				sizes[i] = 1 + r.IntN(1<<r.IntN(24))
			}
		}
		base := make([]byte, 8<<20)
		for i := range base {
			base[i] = byte(r.Uint32())
		}
		sem := make(chan struct{}, parallel)
		errs := make(chan error, conns)
		for i, n := range sizes {
			sem <- struct{}{}
			go func() {
				defer func() { <-sem }()
				off := (i * 4099) % (len(base) - n + 1)
				if err := halfCloseOnce(addr, base[off:off+n], uint64(i)); err != nil {
					errs <- fmt.Errorf("connection %d (%d bytes): %w", i, n, err)
				}
			}()
		}
		for range parallel {
			sem <- struct{}{}
		}
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		waitUntil(t, 5*time.Second, "backend connections closed", func() bool { return b.open.Load() == 0 })
	})
}

// TestProxyUpstreamDown: with nothing listening upstream the client is
// closed at once, not left hanging.
func TestProxyUpstreamDown(t *testing.T) {
	forEachModel(t, func(t *testing.T, model string) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		down := ln.Addr().String()
		ln.Close()
		addr := startProxy(t, model, down, nil)
		assertClosedWithin(t, addr, time.Second)
	})
}

// TestProxyConnectTimeout: an upstream that never completes the handshake
// (its accept queue is full, so the kernel drops the SYNs) gets the client
// closed once the connect timeout passes.
func TestProxyConnectTimeout(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("relies on Linux dropping SYNs to a full accept queue")
	}
	forEachModel(t, func(t *testing.T, model string) {
		full := fullListener(t)
		addr := startProxy(t, model, full, func(c *serveConfig) { c.connectTimeout = 300 * time.Millisecond })
		start := time.Now()
		assertClosedWithin(t, addr, 2*time.Second) // the timeout, and room for a loaded machine
		if d := time.Since(start); d < 250*time.Millisecond {
			t.Fatalf("client closed after %v, before the 300ms connect timeout: was the upstream really unreachable?", d)
		}
	})
}

// fullListener returns the address of a listening socket whose accept
// queue is full, so that further connects hang (startFullUpstream).
func fullListener(t *testing.T) string { return startFullUpstream(t).ln.Addr().String() }

// assertClosedWithin connects to addr and expects the connection to be
// closed (EOF or reset) within d.
func assertClosedWithin(t *testing.T, addr string, d time.Duration) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(d))
	n, err := c.Read(make([]byte, 1))
	if errors.Is(err, os.ErrDeadlineExceeded) || err == nil {
		t.Fatalf("read = %d, %v: the client was not closed within %v", n, err, d)
	}
}

// TestProxyResetClosesPair: a client that resets mid-stream gets its
// upstream connection closed promptly, and the proxy keeps no descriptor of
// the pair.
func TestProxyResetClosesPair(t *testing.T) {
	forEachModel(t, func(t *testing.T, model string) {
		b := startEchoBackend(t)
		addr := startProxy(t, model, b.addr(), nil)
		before := openSockets(t)
		const n = 20
		for range n {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Write(make([]byte, 64<<10)); err != nil {
				t.Fatal(err)
			}
			_ = c.(*net.TCPConn).SetLinger(0)
			c.Close()
		}
		waitUntil(t, 5*time.Second, "backend connections closed", func() bool { return b.open.Load() == 0 })
		waitUntil(t, 5*time.Second, "descriptors back to the baseline", func() bool { return openSockets(t) <= before })
	})
}

// openSockets counts this process's open socket descriptors. (Not all
// descriptors: io.Copy between TCP connections splices through pipes that
// the runtime keeps in a pool.)
func openSockets(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count descriptors: %v", err)
	}
	n := 0
	for _, e := range ents {
		if l, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && strings.HasPrefix(l, "socket:") {
			n++
		}
	}
	return n
}
