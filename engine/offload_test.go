package engine_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pinion-net/pinion/engine"
)

// offHandler reads request lines. Each line is answered on the loop when
// onLoop says so (an echo), else run as an offloaded task; a task the
// pool refuses under OffloadReject is counted and answered "busy\n".
type offHandler struct {
	engine.BaseHandler
	task     func(ctx context.Context, line string, w io.Writer) error
	onLoop   func(line string) bool
	rejected atomic.Int64
	opened   chan int   // each new connection's server-side fd
	closed   chan error // each close reason
}

func newOffHandler(task func(ctx context.Context, line string, w io.Writer) error) *offHandler {
	return &offHandler{task: task, opened: make(chan int, 64), closed: make(chan error, 64)}
}

func (h *offHandler) OnOpen(c *engine.Conn) {
	select {
	case h.opened <- c.Fd():
	default: // the loop never blocks; tests that care read in time
	}
}

func (h *offHandler) OnData(c *engine.Conn) {
	for {
		b := c.Peek(-1)
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return
		}
		line := string(b[:i+1]) // a copy: the task outlives this callback
		c.Discard(i + 1)
		if h.onLoop != nil && h.onLoop(line) {
			_, _ = io.WriteString(c, line)
			continue
		}
		err := c.Offload(func(ctx context.Context, w io.Writer) error { return h.task(ctx, line, w) })
		switch {
		case err == nil:
		case errors.Is(err, engine.ErrOffloadFull):
			h.rejected.Add(1)
			_, _ = io.WriteString(c, "busy\n")
		default:
			_ = c.CloseWithError(err)
			return
		}
	}
}

func (h *offHandler) OnClose(_ *engine.Conn, err error) {
	select {
	case h.closed <- err:
	default:
	}
}

// echoTask replies with the line after sleeping d.
func echoTask(d time.Duration) func(context.Context, string, io.Writer) error {
	return func(_ context.Context, line string, w io.Writer) error {
		time.Sleep(d) // the blocking work
		_, err := io.WriteString(w, line)
		return err
	}
}

// offStart starts an engine as startEngine does and, when the test ends,
// checks that its Shutdown returns nil within 10s: every task in these
// tests ends once its context is cancelled or its gate opens.
func offStart(t *testing.T, h engine.Handler, cfg engine.Config) (*engine.Engine, string) {
	t.Helper()
	e, addr := startEngine(t, h, cfg)
	t.Cleanup(func() { // runs before startEngine's Shutdown, which then does nothing
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown at cleanup: got %v, want nil", err)
		}
	})
	return e, addr
}

// offDial connects to addr and closes the connection when the test ends.
func offDial(t *testing.T, addr string) *net.TCPConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c.(*net.TCPConn)
}

// offReadLine reads one line from c within 10s.
func offReadLine(t *testing.T, c net.Conn) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var b []byte
	var one [1]byte
	for len(b) < 4096 {
		if _, err := c.Read(one[:]); err != nil {
			t.Fatalf("read line (got %q so far): %v", b, err)
		}
		b = append(b, one[0])
		if one[0] == '\n' {
			return string(b)
		}
	}
	t.Fatalf("no newline in %d bytes", len(b))
	return ""
}

// offSend writes s to c within 5s.
func offSend(t *testing.T, c net.Conn, s string) {
	t.Helper()
	_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, s); err != nil {
		t.Fatalf("write %q: %v", s, err)
	}
}

// offEventually polls cond every 2ms until it holds, failing after d with
// what and the engine's offload stats.
func offEventually(t *testing.T, e *engine.Engine, d time.Duration, what string, cond func(engine.OffloadStats) bool) engine.OffloadStats {
	t.Helper()
	deadline := time.Now().Add(d)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		s := e.Stats().Offload
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v still waiting for %s; offload stats: %s", d, what, offFormat(s))
		}
		<-tick.C
	}
}

func offFormat(s engine.OffloadStats) string {
	return fmt.Sprintf("workers %d busy %d queue %d depth %d highwater %d submitted %d completed %d full %d rejected %d paused %d waiting %d panics %d late %d dropped %d",
		s.Workers, s.Busy, s.Queue, s.Depth, s.HighWater, s.Submitted, s.Completed, s.Full, s.Rejected,
		s.Paused, s.Waiting, s.Panics, s.LateReplies, s.DroppedQueued)
}

// offOpened returns the server-side fd of the next connection h opened.
func offOpened(t *testing.T, h *offHandler) int {
	t.Helper()
	return receive(t, h.opened, 10*time.Second, "OnOpen")
}

// offGate is a channel blocked tasks wait on; the test opens it. Tests
// also defer open, so that a test failing first frees the blocked tasks
// before the engine's shutdown: deferred calls run before t.Cleanup's,
// and the engine's shutdown is one of those.
func offGate() (gate <-chan struct{}, open func()) {
	ch := make(chan struct{})
	var once sync.Once
	open = func() { once.Do(func() { close(ch) }) }
	return ch, open
}

// The 10,000-connection tests need 20,000 descriptors with both ends in
// one process, over the 20,000 allowed here: the clients run in a child
// process of this test binary.
const (
	offChildAddrEnv = "PINION_OFFLOAD_CLIENTS_ADDR"
	offChildNEnv    = "PINION_OFFLOAD_CLIENTS_N"
	offManyConns    = 10000
)

type offClientResult struct {
	echoed, busy, bad, failed int
	first                     string // the first bad reply or failure
}

var offResultLine = regexp.MustCompile(`(?m)^offload-clients (\d+) (\d+) (\d+) (\d+) (".*")$`)

// offRunClients runs TestOffloadClientsChild against addr and returns what
// its n connections got back.
func offRunClients(t *testing.T, addr string, n int) offClientResult {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("dials from 127.0.0.2-9: Linux only")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("os.Executable: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, "-test.run=^TestOffloadClientsChild$", "-test.count=1", "-test.timeout=3m")
	cmd.Env = append(os.Environ(), offChildAddrEnv+"="+addr, offChildNEnv+"="+strconv.Itoa(n))
	out, err := cmd.CombinedOutput()
	m := offResultLine.FindSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("client process: %v, want a result line; output:\n%s", err, out)
	}
	var r offClientResult
	for i, p := range []*int{&r.echoed, &r.busy, &r.bad, &r.failed} {
		*p, _ = strconv.Atoi(string(m[i+1]))
	}
	r.first, _ = strconv.Unquote(string(m[5]))
	return r
}

// TestOffloadClientsChild is the client half of the 10,000-connection
// tests: it opens N connections from 127.0.0.2-9 (64 dials at a time),
// then has every connection send "req-I\n" at once, and reads each reply,
// which must be that line or "busy\n". It prints one result line.
func TestOffloadClientsChild(t *testing.T) {
	addr := os.Getenv(offChildAddrEnv)
	if addr == "" {
		t.Skip("the client half of TestOffloadManyConns*; runs only in its child process")
	}
	n, err := strconv.Atoi(os.Getenv(offChildNEnv))
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive count", offChildNEnv, os.Getenv(offChildNEnv))
	}
	const workers = 64 // goroutines; each owns every 64th connection
	conns := make([]net.Conn, n)
	var (
		mu                        sync.Mutex
		first                     string
		echoed, busy, bad, failed atomic.Int64
	)
	note := func(err error) {
		mu.Lock()
		if first == "" {
			first = err.Error()
		}
		mu.Unlock()
	}
	fail := func(err error) { failed.Add(1); note(err) }
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			d := net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+w%8))}}
			for i := w; i < n; i += workers {
				c, err := d.Dial("tcp", addr)
				if err != nil {
					fail(fmt.Errorf("dial %d: %w", i, err))
					continue
				}
				conns[i] = c
			}
		})
	}
	wg.Wait()
	start := make(chan struct{})
	for w := range workers {
		wg.Go(func() {
			<-start
			for i := w; i < n; i += workers {
				if c := conns[i]; c != nil {
					_ = c.SetDeadline(time.Now().Add(90 * time.Second))
					if _, err := fmt.Fprintf(c, "req-%d\n", i); err != nil {
						fail(fmt.Errorf("write %d: %w", i, err))
						_ = c.Close()
						conns[i] = nil
					}
				}
			}
			for i := w; i < n; i += workers {
				c := conns[i]
				if c == nil {
					continue
				}
				got, err := bufio.NewReader(c).ReadString('\n')
				_ = c.Close()
				switch want := fmt.Sprintf("req-%d\n", i); {
				case err != nil:
					fail(fmt.Errorf("read %d (got %q): %w", i, got, err))
				case got == want:
					echoed.Add(1)
				case got == "busy\n":
					busy.Add(1)
				default:
					bad.Add(1)
					note(fmt.Errorf("conn %d: got %q, want %q or %q", i, got, want, "busy\n"))
				}
			}
		})
	}
	close(start)
	wg.Wait()
	fmt.Printf("offload-clients %d %d %d %d %q\n", echoed.Load(), busy.Load(), bad.Load(), failed.Load(), first)
}

// offManyConfig is the pool of the 10,000-connection tests: far too small
// for the load, so the queue fills at once.
func offManyConfig(policy engine.OffloadPolicy) engine.Config {
	return engine.Config{
		Loops: 2, MaxConns: -1,
		OffloadWorkers: 4, OffloadQueue: 64, OffloadPolicy: policy,
	}
}

// TestOffloadManyConnsPause: 10,000 connections each submit a 1ms task at
// once to 4 workers with a queue of 64, under OffloadPause. The queue's
// high-water mark stays within its bound, connections are paused, and yet
// every one of them gets its own line back.
func TestOffloadManyConnsPause(t *testing.T) {
	h := newOffHandler(echoTask(time.Millisecond))
	e, addr := offStart(t, h, offManyConfig(engine.OffloadPause))
	start := time.Now()
	r := offRunClients(t, addr, offManyConns)
	elapsed := time.Since(start)
	if r.echoed != offManyConns || r.busy != 0 || r.bad != 0 || r.failed != 0 {
		t.Fatalf("replies: got %d echoed, %d busy, %d wrong, %d failed (first: %s); want all %d echoed",
			r.echoed, r.busy, r.bad, r.failed, r.first, offManyConns)
	}
	s := offEventually(t, e, 10*time.Second, "every task completed", func(s engine.OffloadStats) bool {
		return s.Completed == offManyConns
	})
	if s.HighWater > int64(s.Queue) || s.Queue != 64 {
		t.Errorf("HighWater: got %d with queue %d, want <= 64", s.HighWater, s.Queue)
	}
	if s.Paused == 0 || s.Full == 0 {
		t.Errorf("Paused, Full: got %d, %d, want both > 0 (the pool was meant to fill)", s.Paused, s.Full)
	}
	if s.Rejected != 0 || h.rejected.Load() != 0 {
		t.Errorf("Rejected under OffloadPause: got %d (handler saw %d), want 0", s.Rejected, h.rejected.Load())
	}
	if s.Submitted != offManyConns {
		t.Errorf("Submitted: got %d, want %d", s.Submitted, offManyConns)
	}
	t.Logf("%d conns in %v: %s; queue wait p50 %v p99 %v", offManyConns, elapsed.Round(time.Millisecond),
		offFormat(s), s.QueueWait.Quantile(0.5), s.QueueWait.Quantile(0.99))
}

// TestOffloadManyConnsReject is the same load under OffloadReject: every
// connection gets its echo or "busy", and the refusals the handler saw, the
// engine counted and the clients received are the same number.
func TestOffloadManyConnsReject(t *testing.T) {
	h := newOffHandler(echoTask(time.Millisecond))
	e, addr := offStart(t, h, offManyConfig(engine.OffloadReject))
	r := offRunClients(t, addr, offManyConns)
	if r.echoed+r.busy != offManyConns || r.bad != 0 || r.failed != 0 {
		t.Fatalf("replies: got %d echoed + %d busy, %d wrong, %d failed (first: %s); want %d echoed or busy",
			r.echoed, r.busy, r.bad, r.failed, r.first, offManyConns)
	}
	if r.busy == 0 || r.echoed == 0 {
		t.Errorf("got %d echoed and %d busy, want both > 0 (the pool was meant to fill)", r.echoed, r.busy)
	}
	s := offEventually(t, e, 10*time.Second, "every task completed and every refusal published", func(s engine.OffloadStats) bool {
		return s.Completed == uint64(r.echoed) && s.Rejected == uint64(h.rejected.Load())
	})
	if got := h.rejected.Load(); got != int64(r.busy) || s.Rejected != uint64(r.busy) {
		t.Errorf("refusals: handler saw %d, Stats().Offload.Rejected %d, clients got %d busy; want all equal", got, s.Rejected, r.busy)
	}
	if s.HighWater > int64(s.Queue) {
		t.Errorf("HighWater: got %d, want <= queue %d", s.HighWater, s.Queue)
	}
	if s.Paused != 0 {
		t.Errorf("Paused under OffloadReject: got %d, want 0", s.Paused)
	}
	t.Logf("%d echoed, %d busy: %s", r.echoed, r.busy, offFormat(s))
}

// TestOffloadLoopLatencyWhileWorkersBlocked blocks both workers of a
// one-loop engine and fills the queue, then measures 200 round trips of a
// connection answered on the loop: the loop never waits for the pool.
func TestOffloadLoopLatencyWhileWorkersBlocked(t *testing.T) {
	gate, open := offGate()
	defer open()
	h := newOffHandler(func(ctx context.Context, line string, w io.Writer) error {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
		_, err := io.WriteString(w, line)
		return err
	})
	h.onLoop = func(line string) bool { return strings.HasPrefix(line, "ping") }
	e, addr := offStart(t, h, engine.Config{Loops: 1, OffloadWorkers: 2, OffloadQueue: 4})

	// 2 running, 4 queued, 2 waiting for room: 8 blocked connections.
	blocked := make([]*net.TCPConn, 8)
	for i := range blocked {
		blocked[i] = offDial(t, addr)
		offSend(t, blocked[i], fmt.Sprintf("block-%d\n", i))
	}
	offEventually(t, e, 10*time.Second, "2 busy workers, a full queue and 2 waiting connections", func(s engine.OffloadStats) bool {
		return s.Busy == 2 && s.Depth == 4 && s.Waiting == 2
	})

	c := offDial(t, addr)
	const n = 200
	rtt := make([]time.Duration, n)
	for i := range n {
		msg := fmt.Sprintf("ping-%d\n", i)
		start := time.Now()
		offSend(t, c, msg)
		if got := offReadLine(t, c); got != msg {
			t.Fatalf("round trip %d: got %q, want %q", i, got, msg)
		}
		rtt[i] = time.Since(start)
	}
	if s := e.Stats().Offload; s.Busy != 2 || s.Depth != 4 {
		t.Fatalf("after the round trips: busy %d, depth %d, want 2 and 4 (the workers were meant to stay blocked)", s.Busy, s.Depth)
	}
	slices.Sort(rtt)
	p50, p99, worst := rtt[n/2], rtt[n*99/100], rtt[n-1]
	t.Logf("loop round trip with every worker blocked and the queue full, %d samples: p50 %v, p99 %v, max %v", n, p50, p99, worst)
	// Generous for -race on a shared 2-core machine; a loop waiting on the
	// pool would not answer at all until the gate opens.
	if p99 > 20*time.Millisecond {
		t.Errorf("loop round trip p99: got %v, want < 20ms", p99)
	}

	open()
	for i, b := range blocked {
		if got, want := offReadLine(t, b), fmt.Sprintf("block-%d\n", i); got != want {
			t.Errorf("blocked connection %d after the gate opened: got %q, want %q", i, got, want)
		}
	}
}

// TestOffloadPanicIsolation: a task that panics closes its own connection
// with a *engine.PanicError; the pool, the loop and other connections go on.
func TestOffloadPanicIsolation(t *testing.T) {
	h := newOffHandler(func(_ context.Context, line string, w io.Writer) error {
		if line == "panic\n" {
			panic("offload test panic")
		}
		_, err := io.WriteString(w, line)
		return err
	})
	e, addr := offStart(t, h, engine.Config{Loops: 1, OffloadWorkers: 1, OffloadQueue: 4})
	other := offDial(t, addr)
	offSend(t, other, "before\n")
	if got := offReadLine(t, other); got != "before\n" {
		t.Fatalf("other connection before the panic: got %q, want %q", got, "before\n")
	}

	victim := offDial(t, addr)
	offSend(t, victim, "panic\n")
	_ = victim.SetReadDeadline(time.Now().Add(10 * time.Second))
	var buf [64]byte
	if n, err := victim.Read(buf[:]); err == nil || n > 0 || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read from the panicking connection: got %d bytes %q, err %v; want it closed", n, buf[:n], err)
	}
	select {
	case err := <-h.closed:
		if _, ok := errors.AsType[*engine.PanicError](err); !ok {
			t.Errorf("close reason: got %T %v, want *engine.PanicError", err, err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no OnClose within 10s of the panic")
	}
	s := offEventually(t, e, 5*time.Second, "the panic counted", func(s engine.OffloadStats) bool { return s.Panics > 0 })
	if s.Panics != 1 {
		t.Errorf("Stats().Offload.Panics: got %d, want 1", s.Panics)
	}

	offSend(t, other, "after\n")
	if got := offReadLine(t, other); got != "after\n" {
		t.Errorf("other connection after the panic: got %q, want %q", got, "after\n")
	}
	fresh := offDial(t, addr)
	offSend(t, fresh, "fresh\n")
	if got := offReadLine(t, fresh); got != "fresh\n" {
		t.Errorf("new connection after the panic: got %q, want %q", got, "fresh\n")
	}
	if got := e.Stats().Conns; got != 2 {
		t.Errorf("open connections: got %d, want 2 (only the panicking one closed)", got)
	}
}

// TestOffloadCancelOnClose: a running task's context is cancelled once its
// connection is gone — reset by the peer or aborted on the loop. A peer's
// FIN alone is a half-close: the task goes on and its reply is delivered.
func TestOffloadCancelOnClose(t *testing.T) {
	type outcome struct {
		err     error // ctx.Err() when the task ended
		waiting bool  // the task ended by timeout, not by cancellation
	}
	tests := []struct {
		name       string
		end        func(t *testing.T, c *net.TCPConn) // ends the connection once the task runs
		wantCancel bool
	}{
		{"peer reset", func(t *testing.T, c *net.TCPConn) {
			_ = c.SetLinger(0)
			_ = c.Close()
		}, true},
		{"abort on the loop", func(t *testing.T, c *net.TCPConn) {
			offSend(t, c, "abort\n")
		}, true},
		{"peer half-close", func(t *testing.T, c *net.TCPConn) {
			_ = c.CloseWrite()
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			started := make(chan struct{}, 1)
			ended := make(chan outcome, 1)
			// With wantCancel the task waits for cancellation (10s at
			// most); else it works 50ms and replies.
			wait := 10 * time.Second
			if !tt.wantCancel {
				wait = 50 * time.Millisecond
			}
			h := newOffHandler(func(ctx context.Context, line string, w io.Writer) error {
				started <- struct{}{}
				select {
				case <-ctx.Done():
					ended <- outcome{err: ctx.Err()}
					return ctx.Err()
				case <-time.After(wait):
					ended <- outcome{err: ctx.Err(), waiting: true}
					_, err := io.WriteString(w, "done\n")
					return err
				}
			})
			ab := &offAborter{offHandler: h}
			_, addr := offStart(t, ab, engine.Config{Loops: 1, OffloadWorkers: 2, OffloadQueue: 4})
			c := offDial(t, addr)
			offSend(t, c, "work\n")
			select {
			case <-started:
			case <-time.After(10 * time.Second):
				t.Fatal("task not started within 10s")
			}
			tt.end(t, c)
			var o outcome
			select {
			case o = <-ended:
			case <-time.After(15 * time.Second):
				t.Fatal("task not ended within 15s")
			}
			if tt.wantCancel {
				if o.waiting || !errors.Is(o.err, context.Canceled) {
					t.Fatalf("task context: got err %v (ended by timeout: %v), want context.Canceled", o.err, o.waiting)
				}
				return
			}
			if !o.waiting || o.err != nil {
				t.Fatalf("task context after a half-close: got err %v (ended by timeout: %v), want not cancelled", o.err, o.waiting)
			}
			if got := offReadLine(t, c); got != "done\n" {
				t.Fatalf("reply after a half-close: got %q, want %q", got, "done\n")
			}
		})
	}
}

// offAborter is an offHandler that aborts a connection on the line
// "abort\n", on the loop, while its task runs.
type offAborter struct{ *offHandler }

func (h *offAborter) OnData(c *engine.Conn) {
	if bytes.Equal(c.Peek(-1), []byte("abort\n")) {
		c.Discard(-1)
		_ = c.Abort(errors.New("aborted by the test"))
		return
	}
	h.offHandler.OnData(c)
}

// TestOffloadLateReplyDropped: a task finishing after its connection was
// reset has its reply dropped and counted; a new connection given the
// same file descriptor, with a task of its own running when the late
// reply comes, receives only its own reply.
func TestOffloadLateReplyDropped(t *testing.T) {
	started, holding := make(chan struct{}, 1), make(chan struct{}, 1)
	release, open := offGate()
	defer open()
	hold, unhold := offGate()
	defer unhold()
	h := newOffHandler(func(_ context.Context, line string, w io.Writer) error {
		switch line {
		case "late\n":
			started <- struct{}{}
			<-release // ignores ctx on purpose: the reply comes after the close
			line = "LATE-REPLY\n"
		case "mine\n":
			holding <- struct{}{}
			<-hold
		}
		_, err := io.WriteString(w, line)
		return err
	})
	e, addr := offStart(t, h, engine.Config{Loops: 1, OffloadWorkers: 2, OffloadQueue: 4})
	a := offDial(t, addr)
	fdA := offOpened(t, h)
	offSend(t, a, "late\n")
	receive(t, started, 10*time.Second, "the late task started")
	_ = a.SetLinger(0)
	_ = a.Close()
	receive(t, h.closed, 10*time.Second, "OnClose after the reset")

	// OnClose promises callback order, not the descriptor's release: on
	// io_uring the close runs on the ring after the callback
	// (docs/adr/0010-io-uring-backend.md). Dialing before the release
	// would give the server another fd, and the client's next socket,
	// made before the server accepts, the released one.
	waitFor(t, 10*time.Second, fmt.Sprintf("the server's fd %d released after OnClose", fdA),
		func() bool { return !fdOpen(fdA) }, nil)
	// The kernel hands out the lowest free descriptor, and the client's
	// side of the closed connection (made first, so lower) is free too:
	// one of the next connections gets the server side's old fd.
	var b *net.TCPConn
	for i := 0; b == nil; i++ {
		if i == 3 {
			t.Fatalf("none of %d new connections got the closed connection's fd %d; the test needs one", i, fdA)
		}
		c := offDial(t, addr)
		if fd := offOpened(t, h); fd == fdA {
			b = c
		}
	}
	// b's own task holds the second worker while the late reply comes
	// back: only the generation in the reply's token tells the two
	// connections apart.
	offSend(t, b, "mine\n")
	receive(t, holding, 10*time.Second, "the new connection's task started")
	open()
	s := offEventually(t, e, 10*time.Second, "the late reply dropped", func(s engine.OffloadStats) bool { return s.LateReplies > 0 })
	if s.LateReplies != 1 {
		t.Errorf("LateReplies: got %d, want 1", s.LateReplies)
	}
	unhold()
	if got := offReadLine(t, b); got != "mine\n" {
		t.Errorf("new connection on fd %d: got %q, want only its own %q", fdA, got, "mine\n")
	}
	t.Logf("fd %d reused; %s", fdA, offFormat(offEventually(t, e, 10*time.Second, "both tasks completed",
		func(s engine.OffloadStats) bool { return s.Completed == 2 })))
}
