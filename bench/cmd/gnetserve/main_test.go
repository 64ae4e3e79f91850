package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// testTimeout bounds every wait of these tests: a dial, a read, the boot,
// the stop.
const testTimeout = 20 * time.Second

// lockedBuffer is a bytes.Buffer safe for the gnet goroutines that log
// into it and the test that reads it. It outlives its test safely: gnet
// keeps the logger of the engine started last as its package default.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what has been written.
func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lineWriter hands each Write to a channel, for the listening line.
type lineWriter chan string

// Write sends p as one line, or drops it when an earlier one is unread.
func (w lineWriter) Write(p []byte) (int, error) {
	select {
	case w <- string(p):
	default:
	}
	return len(p), nil
}

// freeAddr returns a loopback address with a port free a moment ago: the
// server needs an explicit one.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatalf("close the port finder: %v", err)
	}
	return addr
}

// startServer runs serve with the flags args plus -addr of a free port and
// -loops 2, waits for its listening line, and returns the address and
// that line. The server is stopped, and serve waited for, when the test
// ends.
func startServer(t testing.TB, args ...string) (addr, line string) {
	t.Helper()
	addr = freeAddr(t)
	cfg, err := parseFlags(append([]string{"-addr", addr, "-loops", "2"}, args...), io.Discard)
	if err != nil {
		t.Fatalf("parseFlags(%q): %v", args, err)
	}
	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	lines := make(lineWriter, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, lines, log) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(testTimeout):
			t.Errorf("serve did not return within %v of the stop", testTimeout)
		}
		if s := logs.String(); strings.Contains(s, "level=ERROR") {
			t.Errorf("gnet logged errors:\n%s", s)
		}
	})
	select {
	case line = <-lines:
	case err := <-done:
		t.Fatalf("serve returned before listening: %v", err)
	case <-time.After(testTimeout):
		t.Fatalf("no listening line within %v", testTimeout)
	}
	return addr, line
}

// dial connects to addr with every later read and write bounded by
// testTimeout, and closes the connection when the test ends.
func dial(t testing.TB, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, testTimeout)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.SetDeadline(time.Now().Add(testTimeout)); err != nil {
		t.Fatalf("set deadline: %v", err)
	}
	return c
}

func TestListeningLine(t *testing.T) {
	t.Parallel()
	for _, proto := range []string{"echo", "http"} {
		t.Run(proto, func(t *testing.T) {
			t.Parallel()
			addr, line := startServer(t, "-proto", proto)
			want := fmt.Sprintf("gnetserve: listening on %s (%s, gnet, 2 loops)\n", addr, proto)
			if line != want {
				t.Errorf("listening line = %q, want %q", line, want)
			}
			if !regexp.MustCompile(`^gnetserve: listening on 127\.0\.0\.1:[1-9][0-9]* \(\w+, gnet, 2 loops\)\n$`).MatchString(line) {
				t.Errorf("listening line %q does not have the documented form", line)
			}
		})
	}
}

// TestEchoIntegrity runs 200 concurrent connections, each writing 64 KiB of
// its own pseudo-random bytes in random-sized chunks while reading the
// echo, and checks every byte comes back in order.
func TestEchoIntegrity(t *testing.T) {
	t.Parallel()
	addr, _ := startServer(t, "-proto", "echo")
	const (
		conns = 200
		size  = 64 << 10
	)
	var wg sync.WaitGroup
	for i := range conns {
		wg.Go(func() {
			if err := echoOnce(addr, size, uint64(i)); err != nil {
				t.Errorf("connection %d: %v", i, err)
			}
		})
	}
	wg.Wait()
}

// echoOnce sends size pseudo-random bytes drawn from seed over one
// connection, in chunks of 1 B to 8 KiB from a second goroutine, and
// checks the echo byte for byte.
func echoOnce(addr string, size int, seed uint64) error {
	c, err := net.DialTimeout("tcp", addr, testTimeout)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(testTimeout)); err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = byte(r.Uint32())
	}
	werr := make(chan error, 1)
	go func() {
		for p := payload; len(p) > 0; {
			n := min(len(p), 1+r.IntN(8<<10))
			if _, err := c.Write(p[:n]); err != nil {
				werr <- err
				return
			}
			p = p[n:]
		}
		werr <- nil
	}()
	got := make([]byte, size)
	_, rerr := io.ReadFull(c, got)
	if err := <-werr; err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if rerr != nil {
		return fmt.Errorf("read the echo of %d bytes: %w", size, rerr)
	}
	if i := firstDiff(got, payload); i >= 0 {
		return fmt.Errorf("echo differs first at byte %d of %d", i, size)
	}
	return nil
}

// firstDiff returns the first index where a and b differ, or -1.
func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

// echoRoundTrip writes p on c and reads it back.
func echoRoundTrip(c net.Conn, p []byte) error {
	if _, err := c.Write(p); err != nil {
		return err
	}
	got := make([]byte, len(p))
	if _, err := io.ReadFull(c, got); err != nil {
		return err
	}
	if !bytes.Equal(got, p) {
		return fmt.Errorf("echo = %q, want %q", got, p)
	}
	return nil
}

// isClosed reports whether err is how a read sees a connection the server
// closed: EOF, or a reset when the close raced data in flight.
func isClosed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
}

// TestMaxConns checks -max-conns 5: a sixth connection is closed at once,
// and once one of the five closes a new one is served again.
func TestMaxConns(t *testing.T) {
	t.Parallel()
	addr, _ := startServer(t, "-proto", "echo", "-max-conns", "5")
	held := make([]net.Conn, 5)
	for i := range held {
		held[i] = dial(t, addr)
		// A round trip proves gnet has opened the connection, so it is
		// counted before the next dial.
		if err := echoRoundTrip(held[i], []byte("ping")); err != nil {
			t.Fatalf("connection %d of 5: %v", i+1, err)
		}
	}

	extra := dial(t, addr)
	if n, err := extra.Read(make([]byte, 16)); !isClosed(err) {
		t.Fatalf("6th connection: read = %d, %v; want EOF", n, err)
	}

	if err := held[0].Close(); err != nil {
		t.Fatalf("close connection 1: %v", err)
	}
	// The server learns of that close asynchronously: retry until a new
	// connection is served, each try bounded by its round trip.
	deadline := time.Now().Add(testTimeout)
	for try := 1; ; try++ {
		c := dial(t, addr)
		err := echoRoundTrip(c, []byte("again"))
		c.Close()
		if err == nil {
			break
		}
		if !isClosed(err) {
			t.Fatalf("try %d after a close: %v", try, err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no connection served within %v after one of 5 closed", testTimeout)
		}
	}
}
