package engine_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pinion-net/pinion/engine"
)

func hasIPv6() bool {
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		return false
	}
	_ = ln.Close()
	return true
}

func TestListenSeveralAddresses(t *testing.T) {
	sockPath := filepath.Join(t.TempDir(), "echo.sock")
	tests := []struct {
		name   string
		addr   string
		skip   string
		wantIP net.IP // nil: a unix socket at sockPath
	}{
		{name: "tcp4", addr: "tcp4://127.0.0.1:0", wantIP: net.IPv4(127, 0, 0, 1)},
		{name: "tcp6", addr: "tcp6://[::1]:0", wantIP: net.IPv6loopback},
		{name: "unix", addr: "unix://" + sockPath},
	}
	if !hasIPv6() {
		tests[1].skip = "no IPv6 loopback on this host"
	}
	cfg := testConfig()
	cfg.Loops = 2
	cfg.Addrs = nil
	for _, tt := range tests {
		if tt.skip == "" {
			cfg.Addrs = append(cfg.Addrs, tt.addr)
		}
	}
	e, _ := startEngine(t, &echoHandler{}, cfg)
	addrs := e.Addrs()
	if got, want := len(addrs), len(cfg.Addrs); got != want {
		t.Fatalf("Addrs: got %d addresses %v, want %d", got, addrs, want)
	}
	i := 0
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.skip != "" {
				t.Skip(tt.skip)
			}
			a := addrs[i]
			i++
			switch want := tt.wantIP; {
			case want == nil:
				ua, ok := a.(*net.UnixAddr)
				if !ok || ua.Name != sockPath {
					t.Fatalf("address: got %#v, want unix socket %s", a, sockPath)
				}
			default:
				ta, ok := a.(*net.TCPAddr)
				if !ok || !ta.IP.Equal(want) || ta.Port == 0 {
					t.Fatalf("address: got %v, want %v with a real port", a, want)
				}
			}
			for range 2 { // two clients each, so both loops may serve
				c := dial(t, a)
				roundTrip(t, c, "hello over "+tt.name)
			}
		})
	}
}

func TestBalance(t *testing.T) {
	const loops, conns = 4, 200
	tests := []struct {
		balance engine.Balance
		burst   bool // all clients connect at once
		minEach uint64
		minBusy int // loops that must get at least one connection
	}{
		// The kernel's reuseport hash may be uneven: ask for a spread only.
		{balance: engine.ReusePort, minBusy: 2},
		{balance: engine.ReusePort, burst: true, minBusy: 2},
		{balance: engine.RoundRobin, minEach: conns / loops, minBusy: loops},
		{balance: engine.RoundRobin, burst: true, minEach: conns / loops, minBusy: loops},
		{balance: engine.LeastConn, minEach: conns / loops / 2, minBusy: loops},
		// A burst is accepted faster than the loops publish their counts.
		{balance: engine.LeastConn, burst: true, minEach: conns / loops / 2, minBusy: loops},
	}
	for _, tt := range tests {
		name := tt.balance.String()
		if tt.burst {
			name += "/burst"
		}
		t.Run(name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Loops = loops
			cfg.Balance = tt.balance
			e, _ := startEngine(t, &echoHandler{}, cfg)
			a := e.Addrs()[0]
			if tt.burst {
				errs := make(chan error, conns)
				for range conns {
					go func() {
						c, err := net.DialTimeout(a.Network(), a.String(), 5*time.Second)
						if err == nil {
							t.Cleanup(func() { c.Close() })
						}
						errs <- err
					}()
				}
				for range conns {
					if err := receive(t, errs, 10*time.Second, "the clients to connect"); err != nil {
						t.Fatalf("dial: %v", err)
					}
				}
			} else {
				for i := range conns {
					c := dial(t, a)
					if i%10 == 0 {
						roundTrip(t, c, "x")
					}
				}
			}
			waitFor(t, 5*time.Second, "the loops did not open every connection", func() bool {
				return e.Stats().Conns == conns
			}, nil)
			var opened []uint64
			busy := 0
			for _, ls := range e.Stats().Loops {
				opened = append(opened, ls.Opened)
				if ls.Opened > 0 {
					busy++
				}
			}
			t.Logf("connections opened per loop: %v", opened)
			if busy < tt.minBusy {
				t.Errorf("loops with connections: got %d (per loop: %v), want at least %d", busy, opened, tt.minBusy)
			}
			for i, n := range opened {
				if n == conns {
					t.Errorf("loop %d opened all %d connections, want them spread (per loop: %v)", i, conns, opened)
				}
				if n < tt.minEach {
					t.Errorf("loop %d opened %d connections, want at least %d (per loop: %v)", i, n, tt.minEach, opened)
				}
			}
		})
	}
}

func TestMaxConns(t *testing.T) {
	const max = 10
	cfg := testConfig()
	cfg.MaxConns = max
	e, _ := startEngine(t, &echoHandler{}, cfg)
	a := e.Addrs()[0]
	var held []net.Conn
	for i := range max {
		c := dial(t, a)
		roundTrip(t, c, "hold")
		held = append(held, c)
		_ = i
	}
	over := dial(t, a)
	expectClosed(t, over)
	waitFor(t, 5*time.Second, "Stats().Rejected did not count the connection over MaxConns", func() bool {
		return e.Stats().Rejected == 1
	}, nil)
	if got := e.Stats().Conns; got != max {
		t.Errorf("Stats().Conns: got %d, want %d", got, max)
	}
	for _, c := range held { // still served
		roundTrip(t, c, "still here")
	}

	// Closing one frees its slot: the next connection is served.
	_ = held[0].Close()
	waitFor(t, 5*time.Second, "the server did not notice the closed connection", func() bool {
		return e.Stats().Closed == 1
	}, nil)
	next := dial(t, a)
	roundTrip(t, next, "after a slot freed")
	if got := e.Stats().Rejected; got != 1 {
		t.Errorf("Stats().Rejected: got %d, want 1", got)
	}
}

func TestIdleTimeout(t *testing.T) {
	type closed struct {
		name string
		err  error
	}
	closes := make(chan closed, 4)
	h := &echoHandler{
		onData: func(c *engine.Conn) bool {
			if c.Context() == nil { // the first bytes name the connection
				c.SetContext(string(c.Peek(-1)))
			}
			return false
		},
		onClose: func(c *engine.Conn, err error) {
			name, _ := c.Context().(string)
			closes <- closed{name, err}
		},
	}
	cfg := testConfig()
	cfg.IdleTimeout = 200 * time.Millisecond
	e, _ := startEngine(t, h, cfg)
	idle := dial(t, e.Addrs()[0])
	active := dial(t, e.Addrs()[0])
	roundTrip(t, idle, "idle")
	roundTrip(t, active, "active")

	// Ping the active connection every 50 ms for 4 idle timeouts.
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for range 16 {
		<-tick.C
		roundTrip(t, active, "ping")
	}

	expectClosed(t, idle)
	_ = idle.Close() // our FIN ends the server's linger
	got := receive(t, closes, 5*time.Second, "OnClose of the idle connection")
	if got.name != "idle" || !errors.Is(got.err, engine.ErrIdleTimeout) {
		t.Errorf("OnClose: got (%q, %v), want (\"idle\", %v)", got.name, got.err, engine.ErrIdleTimeout)
	}
	select {
	case c := <-closes:
		t.Errorf("second OnClose: got (%q, %v), want the active connection to stay open", c.name, c.err)
	default:
	}
	roundTrip(t, active, "still open")
}

func TestPanicIsolation(t *testing.T) {
	reasons := make(chan error, 4)
	h := &echoHandler{
		onData: func(c *engine.Conn) bool {
			if bytes.Contains(c.Peek(-1), []byte("panic")) {
				panic("boom")
			}
			return false
		},
		onClose: func(_ *engine.Conn, err error) {
			select {
			case reasons <- err:
			default:
			}
		},
	}
	log, logs := testLogger()
	cfg := testConfig()
	cfg.Logger = log
	e, _ := startEngine(t, h, cfg)
	bystander := dial(t, e.Addrs()[0])
	victim := dial(t, e.Addrs()[0])
	roundTrip(t, bystander, "before")
	roundTrip(t, victim, "before")

	if _, err := io.WriteString(victim, "panic"); err != nil {
		t.Fatalf("write: %v", err)
	}
	expectClosed(t, victim)
	reason := receive(t, reasons, 5*time.Second, "OnClose of the panicking connection")
	var pe *engine.PanicError
	if !errors.As(reason, &pe) {
		t.Fatalf("OnClose reason: got %T %v, want *engine.PanicError", reason, reason)
	}
	if pe.Callback != "OnData" || pe.Value != "boom" {
		t.Errorf("PanicError: got callback %q value %v, want OnData and %q", pe.Callback, pe.Value, "boom")
	}
	if !bytes.Contains(pe.Stack, []byte("TestPanicIsolation")) {
		t.Errorf("PanicError.Stack does not name the panicking function:\n%s", pe.Stack)
	}

	roundTrip(t, bystander, "after")
	waitFor(t, 5*time.Second, "Stats().Panics did not reach 1", func() bool { return e.Stats().Panics == 1 }, nil)
	if got := e.Stats().Panics; got != 1 {
		t.Errorf("Stats().Panics: got %d, want 1", got)
	}
	out := logs.String()
	for _, want := range []string{"level=ERROR", "boom", "stack=", "TestPanicIsolation"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q; got:\n%s", want, out)
		}
	}
}

func TestSlowCallback(t *testing.T) {
	h := &echoHandler{
		onData: func(c *engine.Conn) bool {
			if bytes.Equal(c.Peek(-1), []byte("slow")) {
				time.Sleep(30 * time.Millisecond) // the handler blocks its loop on purpose
			}
			return false
		},
	}
	log, logs := testLogger()
	cfg := testConfig()
	cfg.SlowCallback = 10 * time.Millisecond
	cfg.Logger = log
	e, _ := startEngine(t, h, cfg)
	c := dial(t, e.Addrs()[0])
	roundTrip(t, c, "slow")
	waitFor(t, 5*time.Second, "Stats().SlowCallbacks did not count the slow callback", func() bool {
		return e.Stats().SlowCallbacks >= 1
	}, nil)
	out := logs.String()
	// The loop thread may be descheduled during other callbacks too, so
	// only the slow one is certain to be logged.
	for _, want := range []string{"level=WARN", "slow callback", "callback=OnData", "handler=*engine_test.echoHandler"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q; got:\n%s", want, out)
		}
	}
}

func TestOnTick(t *testing.T) {
	var ticks, never atomic.Int64
	cfg := testConfig()
	cfg.TickInterval = 10 * time.Millisecond
	startEngine(t, &echoHandler{onTick: func() { ticks.Add(1) }}, cfg)
	startEngine(t, &echoHandler{onTick: func() { never.Add(1) }}, testConfig())
	waitFor(t, 5*time.Second, "OnTick did not fire 10 times", func() bool { return ticks.Load() >= 10 }, nil)
	if got := never.Load(); got != 0 {
		t.Errorf("OnTick without TickInterval: got %d calls, want 0", got)
	}
}

func TestReadDeadline(t *testing.T) {
	const d = 100 * time.Millisecond
	reasons := make(chan error, 1)
	h := &echoHandler{
		onOpen:  func(c *engine.Conn) { c.SetReadDeadline(time.Now().Add(d)) },
		onClose: func(_ *engine.Conn, err error) { reasons <- err },
	}
	e, _ := startEngine(t, h, testConfig())
	start := time.Now()
	c := dial(t, e.Addrs()[0])
	roundTrip(t, c, "input does not clear the deadline")
	expectClosed(t, c)
	if took := time.Since(start); took < d {
		t.Errorf("closed after %v, want no sooner than the %v deadline", took, d)
	}
	_ = c.Close()
	if err := receive(t, reasons, 5*time.Second, "OnClose"); !errors.Is(err, engine.ErrReadTimeout) {
		t.Errorf("OnClose reason: got %v, want %v", err, engine.ErrReadTimeout)
	}
}

func TestEngineDial(t *testing.T) {
	type opened struct{ ctx any }
	opens := make(chan opened, 4)
	closes := make(chan error, 4)
	h := &echoHandler{
		onOpen:  func(c *engine.Conn) { opens <- opened{c.Context()} },
		onClose: func(_ *engine.Conn, err error) { closes <- err },
	}
	cfg := testConfig()
	cfg.Addrs = []string{} // an engine that only dials
	e, _ := startEngine(t, h, cfg)

	for _, network := range []string{"tcp", "unix"} {
		t.Run("to a "+network+" listener", func(t *testing.T) {
			var ln net.Listener
			var err error
			var addr string
			if network == "unix" {
				path := filepath.Join(t.TempDir(), "peer.sock")
				ln, err = net.Listen("unix", path)
				addr = "unix://" + path
			} else {
				ln, err = net.Listen("tcp", "127.0.0.1:0")
				if ln != nil {
					addr = ln.Addr().String()
				}
			}
			if err != nil {
				t.Fatalf("listen: %v", err)
			}
			defer ln.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			hd, err := e.Dial(ctx, addr, "dialed "+network)
			if err != nil {
				t.Fatalf("Dial(%q): %v", addr, err)
			}
			if !hd.Valid() {
				t.Fatalf("Dial(%q) returned an invalid handle", addr)
			}
			if got := receive(t, opens, 5*time.Second, "OnOpen"); got.ctx != "dialed "+network {
				t.Errorf("Context in OnOpen: got %v, want %q", got.ctx, "dialed "+network)
			}
			peer, err := ln.Accept()
			if err != nil {
				t.Fatalf("accept: %v", err)
			}
			defer peer.Close()
			done := make(chan error, 1)
			if err := hd.AsyncWrite([]byte("hello peer"), func(err error) { done <- err }); err != nil {
				t.Fatalf("AsyncWrite: %v", err)
			}
			if err := receive(t, done, 5*time.Second, "the AsyncWrite callback"); err != nil {
				t.Errorf("AsyncWrite callback: got %v, want nil", err)
			}
			_ = peer.SetReadDeadline(time.Now().Add(5 * time.Second))
			got := make([]byte, len("hello peer"))
			if _, err := io.ReadFull(peer, got); err != nil || string(got) != "hello peer" {
				t.Errorf("peer read: got %q, %v; want %q", got, err, "hello peer")
			}
			// The dialed connection runs the handler: it echoes.
			if _, err := io.WriteString(peer, "echo?"); err != nil {
				t.Fatalf("peer write: %v", err)
			}
			got = make([]byte, len("echo?"))
			if _, err := io.ReadFull(peer, got); err != nil || string(got) != "echo?" {
				t.Errorf("peer read of the echo: got %q, %v; want %q", got, err, "echo?")
			}
			_ = peer.Close()
			if err := receive(t, closes, 5*time.Second, "OnClose"); !errors.Is(err, io.EOF) {
				t.Errorf("OnClose after the peer closed: got %v, want io.EOF", err)
			}
		})
	}

	t.Run("refused", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("listen: %v", err)
		}
		addr := ln.Addr().String()
		_ = ln.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err = e.Dial(ctx, addr, nil)
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("Dial to a closed port: got %v, want an error wrapping ECONNREFUSED", err)
		}
		select {
		case o := <-opens:
			t.Errorf("OnOpen for a refused dial: got %v, want none", o)
		default:
		}
	})

	t.Run("after shutdown", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := e.Shutdown(ctx); err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
		if _, err := e.Dial(ctx, "127.0.0.1:1", nil); !errors.Is(err, engine.ErrStopped) {
			t.Errorf("Dial after Shutdown: got %v, want %v", err, engine.ErrStopped)
		}
	})
}

func TestConfigValidation(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	defer busy.Close()
	tests := []struct {
		name    string
		h       engine.Handler
		cfg     func(c *engine.Config)
		want    []string
		wantErr error
	}{
		{name: "nil handler", cfg: func(*engine.Config) {}, want: []string{"nil Handler"}},
		{
			name: "WriteLow above WriteHigh",
			cfg:  func(c *engine.Config) { c.WriteLow, c.WriteHigh = 128<<10, 64<<10 },
			want: []string{"WriteLow (131072)", "WriteHigh (65536)"},
		},
		{
			name: "address without port",
			cfg:  func(c *engine.Config) { c.Addrs = []string{"127.0.0.1"} },
			want: []string{"parse address", `"127.0.0.1"`},
		},
		{
			name: "unknown network",
			cfg:  func(c *engine.Config) { c.Addrs = []string{"udp://127.0.0.1:0"} },
			want: []string{"unsupported network", "udp"},
		},
		{
			name: "port out of range",
			cfg:  func(c *engine.Config) { c.Addrs = []string{"127.0.0.1:70000"} },
			want: []string{"70000"},
		},
		{
			name: "negative buffer",
			cfg:  func(c *engine.Config) { c.ReadBufferSize = -1 },
			want: []string{"must not be negative"},
		},
		{
			name: "negative MaxFreeIOs",
			cfg:  func(c *engine.Config) { c.MaxFreeIOs = -1 },
			want: []string{"MaxFreeIOs must not be negative"},
		},
		{
			name: "RingReleaseAfter under the minimum",
			cfg:  func(c *engine.Config) { c.RingReleaseAfter = time.Microsecond },
			want: []string{"RingReleaseAfter 1µs", "under 1ms"},
		},
		{
			name: "too many loops",
			cfg:  func(c *engine.Config) { c.Loops = 5000 },
			want: []string{"5000", "1024"},
		},
		{
			name: "address in use",
			cfg: func(c *engine.Config) {
				c.Balance = engine.RoundRobin
				c.Loops = 2
				c.Addrs = []string{"127.0.0.1:0", busy.Addr().String()}
			},
			want:    []string{busy.Addr().String()},
			wantErr: syscall.EADDRINUSE,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			tt.cfg(&cfg)
			h := tt.h
			if h == nil && tt.name != "nil handler" {
				h = &echoHandler{}
			}
			e, err := engine.Start(h, cfg)
			if err == nil {
				_ = e.Shutdown(context.Background())
				t.Fatalf("Start: got nil error, want one mentioning %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Start error: got %q, want it to mention %q", err, w)
				}
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Start error: got %v, want it to wrap %v", err, tt.wantErr)
			}
		})
	}
}

func TestTwoEngines(t *testing.T) {
	upper := &echoHandler{onData: func(c *engine.Conn) bool {
		_, _ = c.Write(bytes.ToUpper(c.Next(-1)))
		return true
	}}
	a, err := engine.Start(&echoHandler{}, testConfig())
	if err != nil {
		t.Fatalf("Start a: %v", err)
	}
	b, _ := startEngine(t, upper, testConfig())
	ca := dial(t, a.Addrs()[0])
	cb := dial(t, b.Addrs()[0])
	roundTrip(t, ca, "same")
	if _, err := io.WriteString(cb, "loud"); err != nil {
		t.Fatalf("write: %v", err)
	}
	got := make([]byte, 4)
	_ = cb.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(cb, got); err != nil || string(got) != "LOUD" {
		t.Fatalf("engine b: got %q, %v; want %q", got, err, "LOUD")
	}

	// The client closes once it reads the server's FIN, which ends the
	// graceful close of Shutdown early.
	eof := make(chan error, 1)
	go func() {
		_ = ca.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err := ca.Read(make([]byte, 1))
		ca.Close()
		eof <- err
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown a: %v", err)
	}
	if err := receive(t, eof, 5*time.Second, "engine a to close its connection"); err != io.EOF {
		t.Errorf("client of engine a: got %v, want EOF", err)
	}
	if c, err := net.DialTimeout("tcp", a.Addrs()[0].String(), 5*time.Second); err == nil {
		c.Close()
		t.Errorf("dial engine a after its Shutdown: got a connection, want refused")
	}
	if _, err := io.WriteString(cb, "still"); err != nil {
		t.Fatalf("write: %v", err)
	}
	got = make([]byte, 5)
	if _, err := io.ReadFull(cb, got); err != nil || string(got) != "STILL" {
		t.Fatalf("engine b after a stopped: got %q, %v; want %q", got, err, "STILL")
	}
	if sa, sb := a.Stats().Accepted, b.Stats().Accepted; sa != 1 || sb != 1 {
		t.Errorf("Accepted: got a=%d b=%d, want 1 each", sa, sb)
	}
}

// blockingHandler blocks its loop in OnData until release is closed.
type blockingHandler struct {
	echoHandler
	release chan struct{}
}

func (h *blockingHandler) OnData(c *engine.Conn) {
	<-h.release // blocks the loop on purpose
	h.echoHandler.OnData(c)
}

// TestWatchdogStack checks that a callback blocking its loop is reported
// while it still blocks, with the stack it is blocked in.
func TestWatchdogStack(t *testing.T) {
	h := &blockingHandler{release: make(chan struct{})}
	log, logs := testLogger()
	cfg := testConfig()
	cfg.Loops = 1
	cfg.SlowCallback = 20 * time.Millisecond
	cfg.Logger = log
	e, _ := startEngine(t, h, cfg)
	c := dial(t, e.Addrs()[0])
	released := false
	defer func() {
		if !released {
			close(h.release)
		}
	}()
	if _, err := c.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the watchdog did not report the blocked callback", func() bool {
		return strings.Contains(logs.String(), "a handler callback is blocking its loop")
	}, nil)
	out := logs.String()
	if !strings.Contains(out, "blockingHandler).OnData") {
		t.Errorf("the report lacks the blocked handler's frame; got:\n%s", out)
	}
	close(h.release)
	released = true
	got := make([]byte, 1)
	if _, err := io.ReadFull(c, got); err != nil || got[0] != 'x' {
		t.Fatalf("echo of the blocked input: got %q, %v; want \"x\"", got, err)
	}
	roundTrip(t, c, "after")
}
