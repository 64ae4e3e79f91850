package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pinion-net/pinion/cmd/pinion/internal/proto"
)

// TestEchoDelay runs both models with -echo-delay 1ms: every round trip
// takes at least the delay (the blocking work happens), and concurrent
// connections, each pipelining chunks, get every byte back in order.
func TestEchoDelay(t *testing.T) {
	const delay = time.Millisecond
	forEachModel(t, func(t *testing.T, model string) {
		addr := startModel(t, model, func(c *serveConfig) {
			c.echoDelay = delay
			c.offloadWorkers, c.offloadQueue = 8, 64
		})

		// Round trips on one connection: none faster than the delay.
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(30 * time.Second))
		fastest := time.Hour
		for i := range 20 {
			msg := fmt.Sprintf("round trip %d\n", i)
			start := time.Now()
			if _, err := io.WriteString(c, msg); err != nil {
				t.Fatalf("write: %v", err)
			}
			got := make([]byte, len(msg))
			if _, err := io.ReadFull(c, got); err != nil {
				t.Fatalf("read echo %d: %v", i, err)
			}
			fastest = min(fastest, time.Since(start))
			if string(got) != msg {
				t.Fatalf("echo %d: got %q, want %q", i, got, msg)
			}
		}
		if fastest < delay {
			t.Errorf("fastest round trip: got %v, want >= the %v echo delay", fastest, delay)
		}

		// 50 connections at once, each writing 64 KiB in random chunks
		// while reading the echo: many tasks per connection, in order.
		r := rand.New(rand.NewPCG(1, 2))
		src := make([]byte, 64<<10)
		for i := range src {
			src[i] = byte(r.Uint32())
		}
		var wg sync.WaitGroup
		errs := make(chan error, 50)
		for i := range 50 {
			wg.Go(func() {
				if err := echoOnce(addr, src, uint64(i)); err != nil {
					errs <- fmt.Errorf("conn %d: %w", i, err)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		t.Logf("%s: fastest round trip %v with -echo-delay %v", model, fastest, delay)
	})
}

// TestParseServeOffload checks the offload flags land in their fields and
// that bad combinations are refused.
func TestParseServeOffload(t *testing.T) {
	def, err := parseServe(nil, io.Discard)
	if err != nil {
		t.Fatalf("parseServe(nil): %v", err)
	}
	set, err := parseServe([]string{
		"-offload-workers", "32", "-offload-queue", "100", "-offload-policy", "reject", "-echo-delay", "2ms",
	}, io.Discard)
	if err != nil {
		t.Fatalf("parseServe(offload flags): %v", err)
	}
	fields := []struct {
		field     string
		got, want any
	}{
		{"default offloadWorkers", def.offloadWorkers, 0},
		{"default offloadQueue", def.offloadQueue, 0},
		{"default offloadPolicy", def.offloadPolicy, "pause"},
		{"default echoDelay", def.echoDelay, time.Duration(0)},
		{"offloadWorkers", set.offloadWorkers, 32},
		{"offloadQueue", set.offloadQueue, 100},
		{"offloadPolicy", set.offloadPolicy, "reject"},
		{"echoDelay", set.echoDelay, 2 * time.Millisecond},
	}
	for _, f := range fields {
		if f.got != f.want {
			t.Errorf("%s: got %v, want %v", f.field, f.got, f.want)
		}
	}

	bad := []struct {
		args []string
		want string
	}{
		{[]string{"-offload-policy", "drop"}, `unknown offload policy "drop"`},
		{[]string{"-offload-policy", ""}, `unknown offload policy ""`},
		{[]string{"-offload-queue", "-1"}, "-offload-queue must not be negative"},
		{[]string{"-echo-delay", "-1ms"}, "-echo-delay must not be negative"},
		{[]string{"-echo-delay", "1ms", "-offload-workers", "-1"}, "-echo-delay needs the offload pool"},
	}
	for _, b := range bad {
		_, err := parseServe(b.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("parseServe(%q): got %v, want an error containing %q", b.args, err, b.want)
		}
	}
	// The goroutine model has no pool: a delay needs none there.
	if _, err := parseServe([]string{"-model", "goroutine", "-echo-delay", "1ms", "-offload-workers", "-1"}, io.Discard); err != nil {
		t.Errorf("goroutine model with -echo-delay and no pool: got %v, want nil", err)
	}
}

// TestOffloadFlagsReachEngine starts the loop server with each offload
// setting and checks the engine got it: the pool's size and queue bound in
// Stats, no pool for a negative size, and under reject a refused chunk
// closes its connection (counted as rejected).
func TestOffloadFlagsReachEngine(t *testing.T) {
	start := func(t *testing.T, mutate func(*serveConfig)) *loopServer {
		t.Helper()
		cfg := serveConfig{
			addr: "127.0.0.1:0", proto: "echo", model: "loop", loops: 1, lb: "reuseport",
			maxConns: -1, idleTimeout: time.Minute, readBuf: 64 << 10, offloadPolicy: "pause",
		}
		mutate(&cfg)
		srv, err := startLoopServer(cfg, proto.Echo{Delay: cfg.echoDelay}, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatalf("startLoopServer: %v", err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := srv.shutdown(ctx); err != nil {
				t.Errorf("shutdown: %v", err)
			}
		})
		return srv.(*loopServer)
	}
	t.Run("size", func(t *testing.T) {
		s := start(t, func(c *serveConfig) { c.offloadWorkers, c.offloadQueue = 3, 5 }).e.Stats().Offload
		if s.Workers != 3 || s.Queue != 5 {
			t.Errorf("pool: got %d workers, queue %d; want 3, 5", s.Workers, s.Queue)
		}
	})
	t.Run("none", func(t *testing.T) {
		s := start(t, func(c *serveConfig) { c.offloadWorkers = -1 }).e.Stats().Offload
		if s.Workers != 0 {
			t.Errorf("pool with -offload-workers -1: got %d workers, want none", s.Workers)
		}
	})
	t.Run("reject", func(t *testing.T) {
		srv := start(t, func(c *serveConfig) {
			c.offloadWorkers, c.offloadQueue, c.offloadPolicy = 1, 1, "reject"
			c.echoDelay = 20 * time.Millisecond
		})
		// 8 connections send at once to 1 worker with a queue of 1: at
		// most 2 are taken, the others are refused and closed.
		const n = 8
		conns := make([]net.Conn, n)
		for i := range conns {
			c, err := net.DialTimeout("tcp", srv.addr(), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			conns[i] = c
		}
		for _, c := range conns {
			_, _ = io.WriteString(c, "x\n")
		}
		echoed, closed := 0, 0
		for i, c := range conns {
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			got, err := io.ReadAll(io.LimitReader(c, 2))
			switch {
			case string(got) == "x\n":
				echoed++
			case len(got) == 0 && err == nil: // EOF: refused and closed
				closed++
			default:
				t.Errorf("conn %d: got %q, %v; want the echo or a close", i, got, err)
			}
		}
		if echoed == 0 || closed == 0 || echoed+closed != n {
			t.Errorf("got %d echoed, %d closed of %d; want both kinds", echoed, closed, n)
		}
		// Stats are published at the end of each loop tick.
		var rejected uint64
		deadline := time.Now().Add(5 * time.Second)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for rejected = srv.e.Stats().Offload.Rejected; rejected != uint64(closed); rejected = srv.e.Stats().Offload.Rejected {
			if time.Now().After(deadline) {
				t.Fatalf("Stats().Offload.Rejected: got %d, want %d (one per closed connection)", rejected, closed)
			}
			<-tick.C
		}
		t.Logf("%d echoed, %d closed, engine counted %d rejected", echoed, closed, rejected)
	})
}
