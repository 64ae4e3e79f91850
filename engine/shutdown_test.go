package engine_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pinion-net/pinion/engine"
)

// shutdownClient streams the pattern to an echo server from one goroutine
// and reads the echo on another, checking every byte, until the server's
// FIN; then it stops writing and sends its own FIN.
type shutdownClient struct {
	c    *net.TCPConn
	seed int64 // pattern offset of its first byte

	sent, recv atomic.Int64
	stop       atomic.Bool
	warmed     chan struct{} // closed once warm bytes came back
	done       sync.WaitGroup

	readErr  error // what ended the stream: io.EOF when clean
	writeErr error
	badByte  int64 // first byte that differs from what was sent; -1: none
}

func (sc *shutdownClient) run(pat pattern, chunk int, warm int64) {
	sc.badByte = -1
	sc.done.Add(2)
	go func() { // writer
		defer sc.done.Done()
		for !sc.stop.Load() {
			if err := sc.c.SetWriteDeadline(time.Now().Add(30 * time.Second)); err != nil {
				sc.writeErr = err
				return
			}
			n, err := sc.c.Write(pat.at(sc.seed+sc.sent.Load(), chunk))
			sc.sent.Add(int64(n))
			if err != nil {
				sc.writeErr = err
				return
			}
		}
		sc.writeErr = sc.c.CloseWrite()
	}()
	go func() { // reader
		defer sc.done.Done()
		defer sc.stop.Store(true)
		buf := make([]byte, 64<<10)
		warmed := false
		for {
			if err := sc.c.SetReadDeadline(time.Now().Add(30 * time.Second)); err != nil {
				sc.readErr = err
				return
			}
			n, err := sc.c.Read(buf)
			off := sc.recv.Load()
			if d := pat.firstDiff(sc.seed+off, buf[:n]); d >= 0 && sc.badByte < 0 {
				sc.badByte = off + int64(d)
			}
			sc.recv.Add(int64(n))
			if !warmed && off+int64(n) >= warm {
				warmed = true
				close(sc.warmed)
			}
			if err != nil {
				sc.readErr = err
				if !warmed {
					close(sc.warmed)
				}
				return
			}
		}
	}()
}

// TestShutdownMidTransfer shuts an engine down while 50 clients stream
// through it: each client gets every byte the server read from it before
// the server's FIN, in order, and a clean EOF; new connects are refused;
// the loop goroutines are gone when Shutdown returns; a second engine in
// the process serves throughout.
func TestShutdownMidTransfer(t *testing.T) {
	const (
		clients = 50
		chunk   = 16 << 10
		warm    = 256 << 10 // bytes each client has back before Shutdown
	)
	base := loopGoroutines()
	// A long linger: every client's FIN must be awaited, never timed out,
	// so that the server reads every byte sent.
	e1, addr1, _ := startEcho(t, engine.Config{LingerTimeout: 30 * time.Second})
	e2, addr2, _ := startEcho(t, engine.Config{})
	waitLoopGoroutines(t, base+4, "with two engines of two loops")

	// The second engine's client: one long connection and a fresh one
	// every tenth round trip, all through the first engine's shutdown.
	var pings atomic.Int64
	pingErr := make(chan error, 1)
	stopPing := make(chan struct{})
	pingDone := make(chan struct{})
	go func() {
		defer close(pingDone)
		p, err := net.DialTimeout("tcp", addr2, 5*time.Second)
		if err != nil {
			pingErr <- err
			return
		}
		defer p.Close()
		for i := 0; ; i++ {
			select {
			case <-stopPing:
				return
			default:
			}
			msg := fmt.Sprintf("ping %d", i)
			if i%10 == 9 {
				err = echoRoundTrip(addr2, msg)
			} else {
				err = echoOn(p, []byte(msg))
			}
			if err != nil {
				pingErr <- fmt.Errorf("round trip %d: %w", i, err)
				return
			}
			pings.Add(1)
		}
	}()

	pat := newPattern(chunk)
	cs := make([]*shutdownClient, clients)
	for i := range cs {
		c, err := net.DialTimeout("tcp", addr1, 5*time.Second)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		defer c.Close()
		cs[i] = &shutdownClient{c: c.(*net.TCPConn), seed: int64(i) * 7919, warmed: make(chan struct{})}
		cs[i].run(pat, chunk, warm)
	}
	for i, sc := range cs {
		select {
		case <-sc.warmed:
		case <-time.After(30 * time.Second):
			t.Fatalf("client %d: %d bytes back after 30s, want %d before shutting down", i, sc.recv.Load(), warm)
		}
	}

	// A holdout client keeps the first engine's shutdown going until the
	// second engine has been seen serving during it.
	hold, err := net.DialTimeout("tcp", addr1, 5*time.Second)
	if err != nil {
		t.Fatalf("dial holdout: %v", err)
	}
	defer hold.Close()
	if err := echoOn(hold, []byte("hold")); err != nil {
		t.Fatalf("holdout: %v", err)
	}

	shutdownErr := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		shutdownErr <- e1.Shutdown(ctx)
	}()

	// The holdout's EOF shows the loops draining, after their listeners
	// closed: from now on connects are refused.
	if err := hold.SetReadDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if n, err := hold.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("holdout read during Shutdown: got %d bytes, %v; want 0, EOF", n, err)
	}
	if err := shutdownDialRefused(addr1); err != nil {
		t.Errorf("connect during Shutdown: %v", err)
	}
	during := pings.Load()
	waitFor(t, 30*time.Second, "the second engine to answer during the first one's shutdown",
		func() bool { return pings.Load() >= during+20 || len(pingErr) > 0 }, nil)
	select {
	case err := <-shutdownErr:
		t.Fatalf("Shutdown returned %v while a client had not closed", err)
	default:
	}
	if err := hold.Close(); err != nil {
		t.Fatal(err)
	}

	select {
	case err := <-shutdownErr:
		if err != nil {
			t.Fatalf("Shutdown: got %v, want nil", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("Shutdown did not return")
	}
	if got := loopGoroutines(); got != base+2 {
		t.Errorf("loop goroutines after the first engine's Shutdown: got %d, want %d (the second engine's)", got, base+2)
	}
	if err := shutdownDialRefused(addr1); err != nil {
		t.Errorf("connect after Shutdown: %v", err)
	}

	var sent, recv int64
	for i, sc := range cs {
		ch := make(chan struct{})
		go func() { sc.done.Wait(); close(ch) }()
		select {
		case <-ch:
		case <-time.After(30 * time.Second):
			t.Fatalf("client %d still running after Shutdown", i)
		}
		s, r := sc.sent.Load(), sc.recv.Load()
		sent += s
		recv += r
		switch {
		case sc.readErr != io.EOF:
			t.Errorf("client %d: stream ended with %v after %d bytes, want EOF (reset: %v)", i, sc.readErr, r, isReset(sc.readErr))
		case sc.writeErr != nil:
			t.Errorf("client %d: writer: %v", i, sc.writeErr)
		case sc.badByte >= 0:
			t.Errorf("client %d: echo byte %d is not the byte sent", i, sc.badByte)
		case r > s:
			t.Errorf("client %d: received %d bytes, more than the %d sent", i, r, s)
		}
	}
	// Stats are final once Shutdown returned. The server read everything
	// each client sent (up to its FIN, the echoed part and, after the
	// server's FIN, the discarded rest), and wrote exactly what the
	// clients received. The holdout adds 4 bytes each way.
	st := e1.Stats()
	t.Logf("clients sent %d and received %d bytes; server read %d, wrote %d; second engine: %d round trips, %d during the shutdown",
		sent, recv, st.BytesIn, st.BytesOut, pings.Load(), pings.Load()-during)
	if st.BytesOut != uint64(recv+4) {
		t.Errorf("server BytesOut: got %d, want %d (what the clients received)", st.BytesOut, recv+4)
	}
	if st.BytesIn != uint64(sent+4) {
		t.Errorf("server BytesIn: got %d, want %d (what the clients sent)", st.BytesIn, sent+4)
	}
	if st.Conns != 0 || st.Outbound != 0 {
		t.Errorf("after Shutdown: conns %d, outbound %d; want 0, 0", st.Conns, st.Outbound)
	}
	if err := e1.Shutdown(context.Background()); err != nil {
		t.Errorf("second Shutdown: got %v, want nil like the first", err)
	}

	close(stopPing)
	<-pingDone
	select {
	case err := <-pingErr:
		t.Fatalf("second engine: %v", err)
	default:
	}
	if err := echoRoundTrip(addr2, "after"); err != nil {
		t.Fatalf("second engine after the first's Shutdown: %v", err)
	}
	if err := e2.Shutdown(context.Background()); err != nil {
		t.Fatalf("second engine's Shutdown: %v", err)
	}
	if got := loopGoroutines(); got != base {
		t.Errorf("loop goroutines after both Shutdowns: got %d, want %d", got, base)
	}
}

// TestShutdownExpiredContext shuts down with a context that has already
// expired while a client holds a connection open, so the graceful part
// cannot finish: Shutdown must report the deadline, and still leave no
// loop goroutine behind and no listener open. A second call returns the
// same error.
func TestShutdownExpiredContext(t *testing.T) {
	base := loopGoroutines()
	e, addr, _ := startEcho(t, engine.Config{})
	waitLoopGoroutines(t, base+2, "with an engine of two loops")
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	if err := echoOn(c, []byte("open")); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	err = e.Shutdown(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown: got %v, want %v", err, context.DeadlineExceeded)
	}
	if got := loopGoroutines(); got != base {
		t.Errorf("loop goroutines after Shutdown: got %d, want %d", got, base)
	}
	if err2 := e.Shutdown(context.Background()); err2 != err {
		t.Errorf("second Shutdown: got %v, want %v", err2, err)
	}
	if err := shutdownDialRefused(addr); err != nil {
		t.Errorf("connect after Shutdown: %v", err)
	}
	// The connection is gone too: EOF or a reset, within the deadline.
	if err := c.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	n, err := c.Read(make([]byte, 1))
	var ne net.Error
	if n != 0 || err == nil || (errors.As(err, &ne) && ne.Timeout()) {
		t.Errorf("read after Shutdown: got %d bytes, %v; want EOF or reset", n, err)
	}
	if s := e.Stats(); s.Conns != 0 {
		t.Errorf("conns after Shutdown: got %d, want 0", s.Conns)
	}
}

// TestShutdownIdleTwice checks the simple case: nothing to drain, nil, and
// nil again.
func TestShutdownIdleTwice(t *testing.T) {
	base := loopGoroutines()
	e, addr, _ := startEcho(t, engine.Config{})
	waitLoopGoroutines(t, base+2, "with an engine of two loops")
	if err := echoRoundTrip(addr, "x"); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := e.Shutdown(context.Background()); err != nil {
			t.Errorf("Shutdown call %d: got %v, want nil", i+1, err)
		}
	}
	if got := loopGoroutines(); got != base {
		t.Errorf("loop goroutines after Shutdown: got %d, want %d", got, base)
	}
}

// shutdownDialRefused returns nil if connecting to addr is refused, and an
// error saying what happened instead.
func shutdownDialRefused(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err == nil {
		c.Close()
		return errors.New("connected, want connection refused")
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("got %v, want connection refused", err)
	}
	return nil
}

// waitLoopGoroutines waits until want goroutines run a loop. Start returns
// before its goroutines have reached Loop.Run; Shutdown returns after they
// have left it, so counts taken then need no waiting.
func waitLoopGoroutines(t *testing.T, want int, what string) {
	t.Helper()
	waitFor(t, 10*time.Second, fmt.Sprintf("%d loop goroutines %s", want, what),
		func() bool { return loopGoroutines() == want },
		func() string { return fmt.Sprintf("got %d", loopGoroutines()) })
}
