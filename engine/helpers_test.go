package engine_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pinion-net/pinion/engine"
)

// echoHandler sends back every byte it receives and reports each close
// reason on closed (when there is room: the loop must never block).
// onOpen, when set, runs in OnOpen.
type echoHandler struct {
	engine.BaseHandler
	onOpen func(c *engine.Conn)
	closes atomic.Int64
	closed chan error
}

func newEchoHandler() *echoHandler { return &echoHandler{closed: make(chan error, 64)} }

func (h *echoHandler) OnOpen(c *engine.Conn) {
	if h.onOpen != nil {
		h.onOpen(c)
	}
}

func (h *echoHandler) OnData(c *engine.Conn) { _, _ = c.Write(c.Next(-1)) }

func (h *echoHandler) OnClose(_ *engine.Conn, err error) {
	h.closes.Add(1)
	select {
	case h.closed <- err:
	default:
	}
}

// startEcho starts an echo engine on an ephemeral 127.0.0.1 port with two
// unpinned loops (cfg's other fields are kept) and shuts it down when the
// test ends. It returns the engine, its address and its handler.
func startEcho(t testing.TB, cfg engine.Config) (*engine.Engine, string, *echoHandler) {
	t.Helper()
	h := newEchoHandler()
	e, addr := startEngine(t, h, cfg)
	return e, addr, h
}

// startEngine is startEcho with the caller's handler.
func startEngine(t testing.TB, h engine.Handler, cfg engine.Config) (*engine.Engine, string) {
	t.Helper()
	cfg.Addrs = []string{"127.0.0.1:0"}
	cfg.Loops = 2
	cfg.Pin = engine.PinOff
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
		_ = e.Shutdown(ctx) // tests that care check Shutdown themselves
	})
	return e, e.Addrs()[0].String()
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
	select {
	case err := <-h.closed:
		return err
	case <-time.After(d):
		t.Fatalf("after %v: no OnClose", d)
		return nil
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
