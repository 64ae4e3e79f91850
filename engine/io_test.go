package engine_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pinion-net/pinion/engine"
)

// envIO returns the backend PINION_TEST_IO names for the engines the
// helpers start: "epoll", "uring", or IOAuto when unset (io_uring where
// this kernel allows it). make test runs the engine and loop packages once
// more with PINION_TEST_IO=epoll, so both backends run every test.
func envIO(t testing.TB) engine.IO {
	switch os.Getenv("PINION_TEST_IO") {
	case "epoll":
		return engine.IOEpoll
	case "uring":
		skipWithoutRing(t)
		return engine.IOUring
	}
	return engine.IOAuto
}

// skipWithoutRing skips t where io_uring cannot be set up (seccomp, the
// sysctl, an old kernel, another OS).
func skipWithoutRing(t testing.TB) {
	t.Helper()
	e, err := engine.Start(engine.BaseHandler{}, engine.Config{Loops: 1, IO: engine.IOUring, Pin: engine.PinOff})
	if err != nil {
		t.Skipf("io_uring unavailable here: %v", err)
	}
	_ = e.Shutdown(context.Background())
}

// ioModes is the table the scenario tests run over.
var ioModes = []string{"epoll", "uring"}

// TestIOBackends runs the engine's scenario tests once per backend (one
// table over the I/O modes): integrity under many connections and under a
// reset storm, watermarks, half-close, EMFILE, shutdown with owed bytes,
// offload, sessions and Dial. Each subtest sets PINION_TEST_IO, which the
// helpers (startEngine) and the EMFILE child honour.
func TestIOBackends(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the scenarios again per backend")
	}
	if os.Getenv("PINION_TEST_IO") != "" {
		t.Skip("PINION_TEST_IO already runs the whole suite on one backend")
	}
	scenarios := []struct {
		name string
		f    func(*testing.T)
	}{
		{"Integrity2000", testIntegrity2000},
		{"ResetStorm", testResetStorm},
		{"WatermarkBoundsOutbound", TestWatermarkBoundsOutbound},
		{"SaturatedBoundsPipelinedReplies", TestSaturatedBoundsPipelinedReplies},
		{"StalledHalfClose", TestStalledHalfClose},
		{"HalfCloseEcho", TestHalfCloseEcho},
		{"HalfCloseHook", TestHalfCloseHook},
		{"ProxyHalfClose", TestProxyHalfClose},
		{"EMFILE", TestEMFILE},
		{"ShutdownMidTransfer", TestShutdownMidTransfer},
		{"OffloadOrder", TestOffloadOrder},
		{"OffloadShutdownDrains", TestOffloadShutdownDrains},
		{"OffloadCancelOnClose", TestOffloadCancelOnClose},
		{"SessionTLS", TestSessionTLS},
		{"SessionReadDeadline", TestSessionReadDeadline},
		{"EngineDial", TestEngineDial},
		{"DialFromCallback", TestDialFromCallback},
	}
	for _, io := range ioModes {
		t.Run(io, func(t *testing.T) {
			t.Setenv("PINION_TEST_IO", io)
			if io == "uring" {
				skipWithoutRing(t)
			}
			for _, s := range scenarios {
				t.Run(s.name, s.f)
			}
		})
	}
}

// TestIOFallback forces the ring's setup to fail: IOAuto runs every loop
// on epoll and logs why, IOUring fails Start with the reason.
func TestIOFallback(t *testing.T) {
	prev := engine.ForceRingUnavailable(true)
	t.Cleanup(func() { engine.ForceRingUnavailable(prev) })

	log, logs := testLogger()
	h := newEchoHandler()
	e, err := engine.Start(h, engine.Config{Addrs: []string{"127.0.0.1:0"}, Loops: 2, Pin: engine.PinOff, Logger: log})
	if err != nil {
		t.Fatalf("Start with IOAuto and no ring: %v", err)
	}
	defer e.Shutdown(context.Background())
	for _, l := range e.Stats().Loops {
		if l.IO != "epoll" {
			t.Errorf("loop %d runs %q, want epoll", l.Loop, l.IO)
		}
	}
	if err := echoRoundTrip(e.Addrs()[0].String(), "fallback"); err != nil {
		t.Errorf("echo on the fallback: %v", err)
	}
	line := logs.String()
	for _, want := range []string{"io backend", "io=epoll", "reason=forced"} {
		if !strings.Contains(line, want) {
			t.Errorf("log %q lacks %q", line, want)
		}
	}

	_, err = engine.Start(h, engine.Config{Loops: 1, IO: engine.IOUring, Pin: engine.PinOff})
	if err == nil || !strings.Contains(err.Error(), "forced") {
		t.Errorf("Start with IOUring and no ring: got %v, want an error saying forced", err)
	}
}

// testIntegrity2000: 2,000 connections open at once each send a distinct
// pattern in several writes and read it back intact, in order; then every
// connection closes and the server is back to none.
func testIntegrity2000(t *testing.T) {
	const conns, size = 2000, 16 << 10
	e, addr, _ := startEcho(t, engine.Config{MaxConns: 3000})
	cs := make([]net.Conn, 0, conns)
	defer func() {
		for _, c := range cs {
			_ = c.Close()
		}
	}()
	for i := range conns {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		cs = append(cs, c)
	}
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	sem := make(chan struct{}, 64)
	for i, c := range cs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			_ = c.SetDeadline(time.Now().Add(60 * time.Second))
			pat := make([]byte, size)
			for j := range pat {
				pat[j] = byte(i*31 + j*7 + j>>9)
			}
			go func() {
				for off := 0; off < size; off += 4 << 10 {
					if _, err := c.Write(pat[off : off+4<<10]); err != nil {
						return
					}
				}
			}()
			got := make([]byte, size)
			if _, err := io.ReadFull(c, got); err != nil {
				errs <- fmt.Errorf("conn %d: %w", i, err)
				return
			}
			if !bytes.Equal(got, pat) {
				errs <- fmt.Errorf("conn %d: echo differs", i)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, c := range cs {
		_ = c.Close()
	}
	cs = nil
	waitFor(t, 20*time.Second, "every connection closed", func() bool { return e.Stats().Conns == 0 }, nil)
}

// testResetStorm: connections that send and then reset (SO_LINGER 0) while
// the server is writing to them leave nothing behind, and the server still
// serves intact echoes afterwards.
func testResetStorm(t *testing.T) {
	e, addr, _ := startEcho(t, engine.Config{})
	base := openFDs(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				c, err := net.DialTimeout("tcp", addr, 5*time.Second)
				if err != nil {
					continue
				}
				_, _ = c.Write(make([]byte, 64<<10))
				_ = c.(*net.TCPConn).SetLinger(0)
				_ = c.Close()
			}
		}()
	}
	wg.Wait()
	waitFor(t, 20*time.Second, "the reset connections closed", func() bool { return e.Stats().Conns == 0 }, nil)
	waitFor(t, 10*time.Second, "descriptors back", func() bool { return openFDs(t) <= base }, nil)
	if err := echoRoundTrip(addr, "after the storm"); err != nil {
		t.Errorf("echo after the storm: %v", err)
	}
}

// seqHandler serves the randomized sequences of TestIOSameResults: each
// input line is a command: "i ID" names the connection, "w N" writes N
// bytes, "a N" writes N bytes from another goroutine (Handle.AsyncWrite),
// "c" closes, "x" aborts. Every OnClose reports the ID and its reason.
type seqHandler struct {
	engine.BaseHandler
	closed chan string
}

type seqConn struct {
	id   string
	line []byte
}

func seqBytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + i%23)
	}
	return b
}

func (h *seqHandler) OnOpen(c *engine.Conn) { c.SetContext(&seqConn{}) }

func (h *seqHandler) OnData(c *engine.Conn) {
	sc := c.Context().(*seqConn)
	for {
		b := c.Peek(-1)
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return
		}
		line := string(b[:i])
		c.Discard(i + 1)
		var n int
		switch {
		case strings.HasPrefix(line, "i "):
			sc.id = line[2:]
		case strings.HasPrefix(line, "w "):
			fmt.Sscan(line[2:], &n)
			_, _ = c.Write(seqBytes(n))
		case strings.HasPrefix(line, "a "):
			fmt.Sscan(line[2:], &n)
			hd := c.Handle()
			go func() { _ = hd.AsyncWrite(seqBytes(n), nil) }()
		case line == "c":
			_ = c.Close()
			return
		case line == "x":
			_ = c.Abort(nil)
			return
		}
	}
}

func (h *seqHandler) OnClose(c *engine.Conn, err error) {
	sc, _ := c.Context().(*seqConn)
	if sc == nil {
		return
	}
	reason := "nil"
	switch {
	case err == nil:
	case errors.Is(err, io.EOF):
		reason = "EOF"
	default:
		reason = err.Error()
	}
	h.closed <- sc.id + " " + reason
}

// runSeq plays one connection's randomized sequence and returns what the
// client observed.
func runSeq(addr string, id int, rng *rand.Rand) string {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return "dial: " + err.Error()
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	var out strings.Builder
	fmt.Fprintf(c, "i %d\n", id)
	// At least one round trip first, so the server has read the ID before
	// anything can reset the connection (a reset may destroy unread input).
	for range 1 + rng.IntN(5) {
		n := 1 + rng.IntN(200<<10)
		op := "w"
		if rng.IntN(2) == 0 {
			op = "a"
		}
		fmt.Fprintf(c, "%s %d\n", op, n)
		got := make([]byte, n)
		if _, err := io.ReadFull(c, got); err != nil {
			fmt.Fprintf(&out, "%s %d: %v; ", op, n, err)
			return out.String()
		}
		fmt.Fprintf(&out, "%s %d ok=%v; ", op, n, bytes.Equal(got, seqBytes(n)))
	}
	switch rng.IntN(4) {
	case 0: // the server closes: EOF
		fmt.Fprintf(c, "c\n")
		n, err := c.Read(make([]byte, 1))
		fmt.Fprintf(&out, "server close: %d %v", n, err == io.EOF)
	case 1: // the server aborts: a reset
		fmt.Fprintf(c, "x\n")
		_, err := io.ReadAll(c)
		fmt.Fprintf(&out, "server abort: reset=%v", isReset(err))
	case 2: // the client closes
		_ = c.(*net.TCPConn).CloseWrite()
		n, err := c.Read(make([]byte, 1))
		fmt.Fprintf(&out, "client close: %d %v", n, err == io.EOF)
	case 3: // the client resets
		_ = c.(*net.TCPConn).SetLinger(0)
		out.WriteString("client reset")
	}
	return out.String()
}

// TestIOSameResults plays one seeded random sequence of opens, writes,
// async writes, closes and aborts (by either side) on each backend, 64
// connections at a time, and checks that what the clients saw and the
// close reasons the handler got are the same.
func TestIOSameResults(t *testing.T) {
	const conns = 64
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	results := map[string][]string{}
	for _, mode := range ioModes {
		t.Run(mode, func(t *testing.T) {
			t.Setenv("PINION_TEST_IO", mode)
			if mode == "uring" {
				skipWithoutRing(t)
			}
			h := &seqHandler{closed: make(chan string, conns)}
			e, addr := startEngine(t, h, engine.Config{})
			res := make([]string, 2*conns)
			var wg sync.WaitGroup
			for i := range conns {
				wg.Add(1)
				go func() {
					defer wg.Done()
					res[i] = runSeq(addr, i, rand.New(rand.NewPCG(seed, uint64(i))))
				}()
			}
			wg.Wait()
			for range conns {
				select {
				case s := <-h.closed:
					var id int
					fmt.Sscan(s, &id)
					res[conns+id] = s
				case <-time.After(20 * time.Second):
					t.Fatalf("OnClose not called for every connection")
				}
			}
			waitFor(t, 10*time.Second, "no connection left", func() bool { return e.Stats().Conns == 0 }, nil)
			results[mode] = res
		})
	}
	a, b := results["epoll"], results["uring"]
	if a == nil || b == nil {
		return
	}
	for i := range a {
		if a[i] != b[i] {
			t.Errorf("entry %d: epoll %q, uring %q", i, a[i], b[i])
		}
	}
}
