package engine_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pinion-net/pinion/engine"
)

// echoHandler sends back every byte it receives, counts its closes and
// reports each close reason on closed when closed is not nil and has room
// (the loop must never block). The optional hooks run on the loop and let a
// test watch or change its behaviour.
type echoHandler struct {
	engine.BaseHandler
	onOpen  func(c *engine.Conn)
	onData  func(c *engine.Conn) bool // true: the hook consumed the input
	onClose func(c *engine.Conn, err error)
	onTick  func()
	closes  atomic.Int64
	closed  chan error
}

// newEchoHandler returns an echoHandler that reports its closes on closed.
func newEchoHandler() *echoHandler { return &echoHandler{closed: make(chan error, 64)} }

func (h *echoHandler) OnOpen(c *engine.Conn) {
	if h.onOpen != nil {
		h.onOpen(c)
	}
}

func (h *echoHandler) OnData(c *engine.Conn) {
	if h.onData != nil && h.onData(c) {
		return
	}
	_, _ = c.Write(c.Next(-1))
}

func (h *echoHandler) OnClose(c *engine.Conn, err error) {
	h.closes.Add(1)
	if h.onClose != nil {
		h.onClose(c, err)
	}
	select {
	case h.closed <- err:
	default:
	}
}

func (h *echoHandler) OnTick(*engine.Loop) {
	if h.onTick != nil {
		h.onTick()
	}
}

// testConfig returns the base configuration of the tests: one loop on an
// ephemeral loopback port, no CPU pinning.
func testConfig() engine.Config {
	return engine.Config{
		Addrs: []string{"127.0.0.1:0"},
		Loops: 1,
		Pin:   engine.PinOff,
	}
}

// startEcho starts an echoHandler with startEngine and returns the engine,
// its first address and the handler.
func startEcho(t testing.TB, cfg engine.Config) (*engine.Engine, string, *echoHandler) {
	t.Helper()
	h := newEchoHandler()
	e, addr := startEngine(t, h, cfg)
	return e, addr, h
}

// startEngine starts h with cfg and shuts the engine down when the test
// ends (tests that care about Shutdown's result call it themselves). What
// cfg leaves unset is filled in: nil Addrs without Listeners, an ephemeral
// 127.0.0.1 port (an empty, non-nil Addrs means no listener: an engine
// that only dials); no Loops, two; PinDefault, PinOff. It returns the
// engine and its first address ("" when it listens on none).
func startEngine(t testing.TB, h engine.Handler, cfg engine.Config) (*engine.Engine, string) {
	t.Helper()
	if cfg.Addrs == nil && cfg.Listeners == nil {
		cfg.Addrs = []string{"127.0.0.1:0"}
	}
	if cfg.Loops == 0 {
		cfg.Loops = 2
	}
	if cfg.Pin == engine.PinDefault {
		cfg.Pin = engine.PinOff
	}
	if cfg.IO == engine.IOAuto {
		cfg.IO = envIO(t)
	}
	e, err := engine.Start(h, cfg)
	if err != nil {
		t.Fatalf("engine.Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = e.Shutdown(ctx)
	})
	addr := ""
	if as := e.Addrs(); len(as) > 0 {
		addr = as[0].String()
	}
	return e, addr
}

// openFDs returns how many file descriptors the process has open, from
// /proc/self/fd (the descriptor of the listing itself included, which is
// the same in every count). It skips the test where /proc is missing.
func openFDs(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count open fds: %v", err)
	}
	return len(ents)
}

// fdOpen reports whether fd is an open descriptor of this process.
func fdOpen(fd int) bool {
	_, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	return !errors.Is(err, unix.EBADF)
}

// readPausesOf sums the read pauses of every loop.
func readPausesOf(s engine.Stats) uint64 {
	var n uint64
	for _, l := range s.Loops {
		n += l.ReadPauses
	}
	return n
}

// waitFor polls cond every few milliseconds until it holds or d passes,
// then fails with what and the last state describe returns.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool, describe func() string) {
	t.Helper()
	deadline := time.Now().Add(d)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			state := ""
			if describe != nil {
				state = ": " + describe()
			}
			t.Fatalf("after %v still waiting for %s%s", d, what, state)
		}
		<-tick.C
	}
}

// waitClosed returns the next close reason reported by h, failing after d.
func waitClosed(t testing.TB, h *echoHandler, d time.Duration) error {
	t.Helper()
	return receive(t, h.closed, d, "OnClose")
}

// receive returns the next value from ch (the zero value once ch is
// closed), failing after d with what.
func receive[T any](t testing.TB, ch <-chan T, d time.Duration, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(d):
		t.Fatalf("after %v: still waiting for %s", d, what)
	}
	var zero T
	return zero
}

// dial connects to a and closes the connection when the test ends.
func dial(t testing.TB, a net.Addr) net.Conn {
	t.Helper()
	c, err := net.DialTimeout(a.Network(), a.String(), 5*time.Second)
	if err != nil {
		t.Fatalf("dial %v: %v", a, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// roundTrip is echoOn that fails the test.
func roundTrip(t testing.TB, c net.Conn, msg string) {
	t.Helper()
	if err := echoOn(c, []byte(msg)); err != nil {
		t.Fatal(err)
	}
}

// expectClosed reads from c until the server closes it and fails if
// bytes arrive first or nothing happens within 5 seconds. EOF and a reset
// both count as closed.
func expectClosed(t testing.TB, c net.Conn) {
	t.Helper()
	if err := c.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatalf("SetReadDeadline: %v", err)
	}
	var buf [64]byte
	n, err := c.Read(buf[:])
	if n > 0 {
		t.Fatalf("read from a connection the server should close: got %q, want EOF", buf[:n])
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("read: got timeout, want the server to close the connection")
	}
	if err == nil {
		t.Fatalf("read: got no error, want EOF or reset")
	}
}

// echoRoundTrip dials addr, sends msg, checks the echo and closes.
func echoRoundTrip(addr, msg string) error {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	return echoOn(c, []byte(msg))
}

// echoOn sends msg on c and checks that the same bytes come back within 5s.
func echoOn(c net.Conn, msg []byte) error {
	if err := c.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		return err
	}
	if _, err := c.Write(msg); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		return fmt.Errorf("read echo: %w", err)
	}
	if !bytes.Equal(got, msg) {
		return fmt.Errorf("echo: got %q, want %q", got, msg)
	}
	return c.SetDeadline(time.Time{})
}

// patternPeriod is the period of the test byte pattern: a prime, so that a
// chunk delivered at a wrong offset (chunks are powers of two) never
// matches.
const patternPeriod = 65521

// pattern is a deterministic byte stream: the byte at offset i is
// at(i)[0]. Slices of up to maxChunk bytes can be taken at any offset.
type pattern struct {
	b        []byte
	maxChunk int
}

func newPattern(maxChunk int) pattern {
	b := make([]byte, patternPeriod+maxChunk)
	for i := range b {
		j := i % patternPeriod
		b[i] = byte(j) ^ byte(j>>8)*31
	}
	return pattern{b: b, maxChunk: maxChunk}
}

// at returns the n (<= maxChunk) pattern bytes starting at offset off.
func (p pattern) at(off int64, n int) []byte {
	s := int(off % patternPeriod)
	return p.b[s : s+n]
}

// firstDiff returns the index of the first byte where got differs from the
// pattern at off, or -1. got may be of any length.
func (p pattern) firstDiff(off int64, got []byte) int {
	for done := 0; done < len(got); {
		n := min(len(got)-done, p.maxChunk)
		part, want := got[done:done+n], p.at(off+int64(done), n)
		if !bytes.Equal(part, want) {
			for i := range part {
				if part[i] != want[i] {
					return done + i
				}
			}
		}
		done += n
	}
	return -1
}

// sendThenFIN connects to addr, writes size bytes of p from offset 0 and
// then its FIN, while it reads what comes back until EOF, within 60s; it
// returns what was read. A failed dial, read or write fails the test.
func sendThenFIN(t *testing.T, addr string, p pattern, size int) []byte {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(60 * time.Second))
	sent := make(chan error, 1)
	go func() {
		for off := 0; off < size; {
			n := min(p.maxChunk, size-off)
			if _, err := c.Write(p.at(int64(off), n)); err != nil {
				sent <- err
				return
			}
			off += n
		}
		sent <- c.(*net.TCPConn).CloseWrite()
	}()
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("read after %d bytes: %v; want EOF", len(got), err)
	}
	if err := <-sent; err != nil {
		t.Fatalf("client write: %v", err)
	}
	return got
}

// loopGoroutines counts goroutines running a loop: those whose stack holds
// loop.(*Loop).Run.
func loopGoroutines() int { return goroutinesIn("loop.(*Loop).Run(") }

// goroutinesIn counts the goroutines whose stack holds frame.
func goroutinesIn(frame string) int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	return strings.Count(string(buf), frame)
}

// isReset reports whether err is a connection reset, as opposed to a clean
// end of stream.
func isReset(err error) bool { return errors.Is(err, syscall.ECONNRESET) }

// logBuffer collects the text of slog records, safe for the loop and the
// test goroutine at once.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testLogger returns a logger writing every record, Debug and up, to a
// buffer.
func testLogger() (*slog.Logger, *logBuffer) {
	b := new(logBuffer)
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

// raceEnabled reports whether the test binary was built with -race.
func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}
