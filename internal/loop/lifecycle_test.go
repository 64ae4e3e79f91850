package loop

import (
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/pinion-net/pinion/internal/tcptest"
)

var errTest = errors.New("test: reason")

// TestOnCloseNeverNested covers the defect "OnClose runs while OnData is
// still on the stack": a connection closed at once inside another callback
// (a Write past WriteMax, Abort, Close without lingering, in OnData, OnOpen
// or a timer) gets its OnClose after that callback returned, exactly once.
func TestOnCloseNeverNested(t *testing.T) {
	cases := []struct {
		name  string
		cfg   func(*Config)
		open  func(c *Conn, log func(string))
		data  func(c *Conn)
		inCtx string // the callback that closes
	}{
		{name: "write past WriteMax in OnData", inCtx: "data",
			cfg:  func(c *Config) { c.WriteLow, c.WriteHigh, c.WriteMax = 512, 1024, 2048 },
			data: func(c *Conn) { _, _ = c.Write(make([]byte, 4096)) }},
		{name: "Abort in OnData", inCtx: "data",
			data: func(c *Conn) { _ = c.Abort(errTest) }},
		{name: "Close without lingering in OnData", inCtx: "data",
			cfg:  func(c *Config) { c.LingerTimeout = -1 },
			data: func(c *Conn) { _ = c.Close() }},
		{name: "Abort in OnOpen", inCtx: "open",
			open: func(c *Conn, log func(string)) { _ = c.Abort(errTest) }},
		{name: "Abort in a timer", inCtx: "timer",
			open: func(c *Conn, log func(string)) {
				c.Loop().Schedule(0, func() {
					log("timer")
					_ = c.Abort(errTest)
					log("/timer")
				})
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var events []string // written on the loop only
			done := make(chan []string, 1)
			log := func(s string) { events = append(events, s) }
			h := &fnHandler{
				open: func(c *Conn) {
					log("open")
					if tc.open != nil {
						tc.open(c, log)
					}
					log("/open")
				},
				data: func(c *Conn) {
					log("data")
					if tc.data != nil {
						tc.data(c)
					}
					c.Discard(-1)
					log("/data")
				},
				close: func(c *Conn, err error) {
					log("close")
					done <- events
				},
			}
			cfg := Config{Handler: h}
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			l := runLoop(t, cfg)
			peer := adoptPair(t, l)
			if tc.inCtx == "data" {
				if _, err := peer.Write([]byte("x")); err != nil {
					t.Fatalf("write: %v", err)
				}
			}
			got := strings.Join(recv(t, done, "OnClose"), " ")
			want := map[string]string{
				"data":  "open /open data /data close",
				"open":  "open /open close",
				"timer": "open /open timer /timer close",
			}[tc.inCtx]
			if got != want {
				t.Fatalf("callbacks ran as %q; want %q (OnClose after the callback that closed)", got, want)
			}
		})
	}
}

// TestPostedFuncRunsAtExit covers the defect "posted functions are dropped
// by the loop's exit path": a function Post accepted runs exactly once even
// when the loop stops before its turn.
func TestPostedFuncRunsAtExit(t *testing.T) {
	l, err := New(Config{Handler: BaseHandler{}, TaskBudget: 1})
	if err != nil {
		t.Fatal(err)
	}
	go l.Run()
	var ran atomic.Int32
	var accepted atomic.Int32
	if err := l.Post(func() {
		// Next tick runs the Abort only (budget 1) and stops: these are
		// still queued when the loop exits.
		_ = l.Abort()
		for range 3 {
			if l.Post(func() { ran.Add(1) }) == nil {
				accepted.Add(1)
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	waitDone(t, l)
	if accepted.Load() != 3 || ran.Load() != 3 {
		t.Fatalf("%d posted functions accepted, %d ran; want 3 and 3", accepted.Load(), ran.Load())
	}
	if err := l.Post(func() {}); !errors.Is(err, ErrLoopClosed) {
		t.Fatalf("Post after exit: %v; want ErrLoopClosed", err)
	}
}

// TestDialAsyncAtExit covers the defect "a DialAsync that races the loop's
// exit never runs its callback" (so Engine.Dial could block forever): the
// callback runs once, with ErrLoopClosed.
func TestDialAsyncAtExit(t *testing.T) {
	l, err := New(Config{Handler: BaseHandler{}, TaskBudget: 1})
	if err != nil {
		t.Fatal(err)
	}
	go l.Run()
	res := make(chan error, 2)
	addr := refusedAddr(t)
	if err := l.Post(func() {
		// Next tick runs the Abort only (budget 1) and stops: the dial is
		// still queued when the loop exits.
		_ = l.Abort()
		if err := l.DialAsync(addr, nil, func(_ Handle, err error) { res <- err }); err != nil {
			res <- err
		}
	}); err != nil {
		t.Fatal(err)
	}
	waitDone(t, l)
	select {
	case err := <-res:
		if !errors.Is(err, ErrLoopClosed) {
			t.Fatalf("DialAsync callback got %v; want ErrLoopClosed", err)
		}
	default:
		t.Fatal("DialAsync's callback never ran after the loop stopped")
	}
	if len(res) != 0 {
		t.Fatal("DialAsync's callback ran twice")
	}
}

// TestRefusedDialWithQueuedBytes covers the defect "a refused dial with
// bytes queued reports `loop: write: connection refused`": the reason is a
// dial error.
func TestRefusedDialWithQueuedBytes(t *testing.T) {
	reasons := make(chan error, 1)
	h := &fnHandler{close: func(c *Conn, err error) { reasons <- err }}
	l := runLoop(t, Config{Handler: h})
	addr := refusedAddr(t)
	if err := l.Post(func() {
		c, err := l.Dial(addr, nil)
		if err != nil {
			reasons <- err
			return
		}
		if _, err := c.Write([]byte("hello")); err != nil {
			t.Errorf("Write while connecting: %v", err)
		}
	}); err != nil {
		t.Fatal(err)
	}
	err := recv(t, reasons, "OnClose")
	var op *OpError
	if !errors.As(err, &op) || op.Op != "dial" || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("close reason %v; want an *OpError with Op \"dial\" wrapping ECONNREFUSED", err)
	}
}

// TestDialed covers "Conn tells dialed from accepted".
func TestDialed(t *testing.T) {
	got := make(chan bool, 2)
	h := &fnHandler{open: func(c *Conn) { got <- c.Dialed() }}
	l := runLoop(t, Config{Handler: h})
	adoptPair(t, l)
	if recv(t, got, "accepted OnOpen") {
		t.Fatal("accepted connection says Dialed")
	}
	backend := tcptest.Serve(t, nil)
	if err := l.Post(func() { _, _ = l.Dial(backend, nil) }); err != nil {
		t.Fatal(err)
	}
	if !recv(t, got, "dialed OnOpen") {
		t.Fatal("dialed connection says not Dialed")
	}
}

// TestPeerEOFDefault keeps today's behaviour for handlers that do not opt
// in to half-close: the owed bytes go out, then OnClose with io.EOF.
func TestPeerEOFDefault(t *testing.T) {
	reasons := make(chan error, 1)
	h := &fnHandler{
		data:  func(c *Conn) { _, _ = c.Write(c.Next(-1)) },
		close: func(c *Conn, err error) { reasons <- err },
	}
	l := runLoop(t, Config{Handler: h})
	peer := adoptPair(t, l)
	if _, err := peer.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	_ = peer.(interface{ CloseWrite() error }).CloseWrite()
	b, err := io.ReadAll(peer)
	if err != nil || string(b) != "ping" {
		t.Fatalf("read %q, %v; want \"ping\", EOF", b, err)
	}
	if err := recv(t, reasons, "OnClose"); err != io.EOF {
		t.Fatalf("OnClose reason %v; want io.EOF", err)
	}
}
