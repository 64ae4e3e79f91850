package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/pinion-net/pinion/engine"
	"github.com/pinion-net/pinion/internal/tcptest"
)

// drainUpstream is the upstream of the proxy drain tests. Each connection
// answers the first message it reads with reply (called with the
// connection), then reads until the proxy's FIN; how its connection ended
// (nil: a FIN, with no byte after the first message) arrives on ends. A
// connection that ends before its first message is not reported.
type drainUpstream struct {
	addr string
	ends chan error
}

func startDrainUpstream(t *testing.T, reply func(c net.Conn) error) *drainUpstream {
	t.Helper()
	u := &drainUpstream{ends: make(chan error, 4)}
	u.addr = tcptest.Serve(t, func(c net.Conn) {
		_ = c.SetDeadline(time.Now().Add(30 * time.Second))
		if _, err := c.Read(make([]byte, 64)); err != nil {
			return // a connection that carried nothing: a probe (waitRefused)
		}
		if err := reply(c); err != nil {
			u.ends <- fmt.Errorf("reply: %w", err)
			return
		}
		u.ends <- readToFIN(c)
	})
	return u
}

// readToFIN reads c until end of file: nil for a FIN with nothing before
// it, else what came instead (bytes, a reset, a timeout).
func readToFIN(c net.Conn) error {
	n, err := c.Read(make([]byte, 1))
	switch {
	case n > 0:
		return fmt.Errorf("%d unexpected bytes", n)
	case errors.Is(err, io.EOF):
		return nil
	default:
		return err
	}
}

// end waits for how the upstream's connection ended.
func (u *drainUpstream) end(t *testing.T) {
	t.Helper()
	select {
	case err := <-u.ends:
		if err != nil {
			t.Errorf("upstream: %v; want the proxy's FIN", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("upstream: no FIN from the proxy within 10s")
	}
}

// echoFirst is the reply of an upstream that echoes "ping".
func echoFirst(c net.Conn) error {
	_, err := c.Write([]byte("pong"))
	return err
}

// dialExchange connects to the proxy and does one exchange through it, so
// that the pair is connected (and the client is not in the accept queue
// when the drain closes the listener).
func dialExchange(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 4)
	if _, err := io.ReadFull(c, got); err != nil || string(got) != "pong" {
		t.Fatalf("exchange through the proxy: %q, %v", got, err)
	}
	return c
}

// drainProxy configures a proxy server to upstream for the drain tests.
func drainProxy(ioMode, upstream string, grace, timeout time.Duration) func(*serveConfig) {
	return func(c *serveConfig) {
		c.io, c.proto, c.upstream, c.connectTimeout = ioMode, "proxy", upstream, 2*time.Second
		c.drainGrace, c.drainTimeout = grace, timeout
	}
}

// proxyRequest connects to the proxy at addr (with a receive buffer of rcvbuf
// bytes unless 0), asks its upstream for the reply, and reads the first n
// bytes of it.
func proxyRequest(t *testing.T, addr string, rcvbuf, n int) (net.Conn, []byte) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if rcvbuf > 0 {
		_ = c.(*net.TCPConn).SetReadBuffer(rcvbuf)
	}
	_ = c.SetDeadline(time.Now().Add(15 * time.Second))
	if _, err := c.Write([]byte("GET")); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, n)
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("first %d bytes of the reply: %v", n, err)
	}
	return c, got
}

// replyToFIN reads c to the proxy's FIN and fails unless got and what
// came make want, byte for byte; a reset is a failure too.
func replyToFIN(t *testing.T, c net.Conn, got, want []byte) []byte {
	t.Helper()
	rest, err := io.ReadAll(c)
	got = append(got, rest...)
	if err != nil {
		t.Fatalf("reply through the drain: %d of %d bytes, then %v", len(got), len(want), err)
	}
	if !bytes.Equal(got, want) {
		i := 0
		for i < min(len(got), len(want)) && got[i] == want[i] {
			i++
		}
		t.Fatalf("reply through the drain: %d bytes, want %d; first difference at byte %d", len(got), len(want), i)
	}
	return got
}

// drainEnds fails unless the drain started by drainStart returns nil soon
// after its last relay closed.
func drainEnds(t *testing.T, done <-chan error) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("drain: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("drain did not end once its relay was closed")
	}
}

// forEachProxyBackend runs fn on the loop model over each I/O backend
// (io_uring where this kernel allows it) and on the goroutine model (io "").
func forEachProxyBackend(t *testing.T, fn func(t *testing.T, model, ioMode string)) {
	for _, m := range []struct{ model, io string }{{"loop", "epoll"}, {"loop", "uring"}, {"goroutine", ""}} {
		name := m.model
		if m.io != "" {
			name += "/" + m.io
		}
		t.Run(name, func(t *testing.T) {
			if m.io == "uring" {
				e, err := engine.Start(engine.BaseHandler{}, engine.Config{Loops: 1, IO: engine.IOUring, Pin: engine.PinOff})
				if err != nil {
					t.Skipf("io_uring unavailable here: %v", err)
				}
				_ = e.Shutdown(context.Background())
			}
			fn(t, m.model, m.io)
		})
	}
}

// TestProxyDrainQuiet, on both models (and both backends of the loop): a
// relay quiet when the drain starts is closed once it stayed quiet for
// -drain-grace, long before the drain's deadline, and both its client and
// its upstream get a FIN, not a reset; the drain then ends at once.
func TestProxyDrainQuiet(t *testing.T) {
	const grace = 300 * time.Millisecond
	forEachProxyBackend(t, func(t *testing.T, model, ioMode string) {
		u := startDrainUpstream(t, echoFirst)
		srv := startServer(t, model, drainProxy(ioMode, u.addr, grace, 20*time.Second))
		c := dialExchange(t, srv.addr())
		start, done := drainStart(srv, 20*time.Second)
		closed := expectEOF(t, c, c, "quiet relay")
		u.end(t)
		c.Close() // the proxy's lingering close of the client ends
		took := closed.Sub(start)
		if took < grace {
			t.Errorf("quiet relay closed %v after the drain began, before the %v grace", took, grace)
		}
		if took > 10*time.Second {
			t.Errorf("quiet relay closed %v after the drain began; want about the %v grace", took, grace)
		}
		drainEnds(t, done)
		t.Logf("%s: quiet relay closed %v after the drain began (grace %v); drain took %v", t.Name(),
			took.Round(time.Millisecond), grace, time.Since(start).Round(time.Millisecond))
	})
}

// TestProxyDrainReplyInFlight, on both models and backends: an upstream is
// writing a reply in pieces when the drain starts, each piece before the
// relay has been quiet for the grace, for longer than the grace in all. The
// client
// gets every byte of the reply, in order, and then the proxy's FIN; the
// upstream, which keeps its side open, gets a FIN too.
func TestProxyDrainReplyInFlight(t *testing.T) {
	const (
		grace  = 500 * time.Millisecond
		pieces = 25
		piece  = 4 << 10
		gap    = 40 * time.Millisecond // pieces*gap = 1s: the reply outlasts the grace
	)
	want := make([]byte, pieces*piece)
	for i := range want {
		want[i] = byte(i%251 + i/piece) // a piece lost, doubled or swapped shows
	}
	forEachProxyBackend(t, func(t *testing.T, model, ioMode string) {
		began := make(chan struct{})
		u := startDrainUpstream(t, func(c net.Conn) error {
			for i := range pieces {
				if i == 1 {
					select {
					case <-began: // the rest is written during the drain
					case <-time.After(20 * time.Second):
						return errors.New("the drain did not begin")
					}
				}
				if i > 0 {
					time.Sleep(gap) // the upstream's pace, not a synchronisation
				}
				if _, err := c.Write(want[i*piece : (i+1)*piece]); err != nil {
					return err
				}
			}
			return nil
		})
		srv := startServer(t, model, drainProxy(ioMode, u.addr, grace, 20*time.Second))
		c, got := proxyRequest(t, srv.addr(), 0, piece)
		start, done := drainStart(srv, 20*time.Second)
		waitRefused(t, srv.addr())
		close(began)
		got = replyToFIN(t, c, got, want)
		closed := time.Now()
		u.end(t)
		c.Close()
		drainEnds(t, done)
		t.Logf("%s: %d-byte reply whole; relay closed %v after the drain began (reply took about %v, grace %v)", t.Name(),
			len(got), closed.Sub(start).Round(time.Millisecond), (pieces-1)*gap, grace)
	})
}

// TestProxyDrainProcess: `pinion serve -proto proxy`, on both models and
// backends, with a quiet relay open when SIGTERM comes: the relay ends
// with a FIN to both sides after the grace, and the process exits with
// status 0 long before the -drain-timeout.
func TestProxyDrainProcess(t *testing.T) {
	bin := buildPinion(t)
	forEachProxyBackend(t, func(t *testing.T, model, ioMode string) {
		u := startDrainUpstream(t, echoFirst)
		args := []string{"-model", model, "-loops", "2", "-proto", "proxy", "-upstream", u.addr,
			"-drain-grace", "300ms", "-drain-timeout", "20s"}
		if ioMode != "" {
			args = append(args, "-io", ioMode)
		}
		p := startServe(t, bin, args...)
		c := dialExchange(t, p.addr)
		start := time.Now()
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatalf("SIGTERM to pid %d: %v", p.cmd.Process.Pid, err)
		}
		expectEOF(t, c, c, "quiet relay after SIGTERM")
		u.end(t)
		c.Close()
		p.exitsCleanly(t, 15*time.Second)
		d := time.Since(start)
		if d > 10*time.Second {
			t.Errorf("exited %v after SIGTERM; want about the 300ms grace, not the 20s drain timeout", d)
		}
		t.Logf("%s: exited with status 0, %v after SIGTERM", t.Name(), d.Round(time.Millisecond))
	})
}

// TestProxyDrainSlowReader, on both models and backends: when the drain
// starts, an upstream has answered with 32 MiB that a client with a small
// receive buffer has barely begun to read, and it reads nothing more for
// three graces. The relay owes bytes all that time, so it is not quiet:
// the client then gets every byte, in order, before the FIN.
func TestProxyDrainSlowReader(t *testing.T) {
	const grace = 300 * time.Millisecond
	want := make([]byte, 32<<20)
	for i := range want {
		want[i] = byte(i%251 + i>>16)
	}
	forEachProxyBackend(t, func(t *testing.T, model, ioMode string) {
		u := startDrainUpstream(t, func(c net.Conn) error {
			_, err := c.Write(want)
			return err
		})
		srv := startServer(t, model, drainProxy(ioMode, u.addr, grace, 20*time.Second))
		c, got := proxyRequest(t, srv.addr(), 64<<10, 64<<10)
		start, done := drainStart(srv, 20*time.Second)
		time.Sleep(3 * grace) // the client's pace: it reads nothing for three graces
		replyToFIN(t, c, got, want)
		u.end(t)
		c.Close()
		drainEnds(t, done)
		t.Logf("%s: 32 MiB reply whole to a client that read nothing for %v; drain took %v", t.Name(),
			3*grace, time.Since(start).Round(time.Millisecond))
	})
}

// TestProxyDrainDeadline, on both models and backends: a relay that never
// goes quiet (the client uploads without pause to an upstream that reads
// everything, never answers, and holds its side open after the proxy's
// FIN) is cut at the drain's deadline on both sides: the drain and the
// shutdown return within the -drain-timeout and a little, and the
// client's connection ends.
func TestProxyDrainDeadline(t *testing.T) {
	const timeout = 2 * time.Second
	forEachProxyBackend(t, func(t *testing.T, model, ioMode string) {
		release := make(chan struct{})
		upstream := tcptest.Serve(t, func(c net.Conn) {
			_, _ = io.Copy(io.Discard, c)
			<-release // holds its side open until the test ends
		})
		t.Cleanup(func() { close(release) }) // runs before Serve's cleanup waits for the handler
		srv := newServer(t, model, drainProxy(ioMode, upstream, 300*time.Millisecond, timeout))
		c, err := net.DialTimeout("tcp", srv.addr(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		stop := make(chan struct{})
		uploaded := make(chan error, 1)
		go func() {
			buf := make([]byte, 1<<10)
			for {
				select {
				case <-stop:
					uploaded <- nil
					return
				default:
				}
				_ = c.SetWriteDeadline(time.Now().Add(15 * time.Second))
				if _, err := c.Write(buf); err != nil {
					uploaded <- err // the cut
					return
				}
				time.Sleep(20 * time.Millisecond) // the client's pace: never quiet for a 300ms grace
			}
		}()
		start := time.Now()
		ended := make(chan error, 1)
		go func() { ended <- drainAndShutdown(srv, timeout, slog.New(slog.NewTextHandler(io.Discard, nil))) }()
		select {
		case err := <-ended:
			took := time.Since(start)
			t.Logf("%s: drain and shutdown returned %v after a %v -drain-timeout (%v)", t.Name(),
				took.Round(time.Millisecond), timeout, err)
			if took > timeout+1500*time.Millisecond {
				t.Errorf("drain and shutdown took %v; want the %v -drain-timeout and little more", took, timeout)
			}
		case <-time.After(timeout + 8*time.Second):
			close(stop)
			t.Fatalf("drain and shutdown still running %v after a %v -drain-timeout", time.Since(start).Round(time.Millisecond), timeout)
		}
		// The client's connection is over: its reads end (FIN or reset).
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.ReadAll(c); errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("client still connected after the shutdown: %v", err)
		}
		close(stop)
		<-uploaded
	})
}
