package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"testing"
	"time"
)

// startModel starts the echo server of one model on a free loopback port
// and shuts it down when the test ends.
func startModel(t testing.TB, model string, mutate func(*serveConfig)) string {
	t.Helper()
	return startServer(t, model, mutate).addr()
}

// startServer is startModel returning the server itself.
func startServer(t testing.TB, model string, mutate func(*serveConfig)) server {
	t.Helper()
	srv := newServer(t, model, mutate)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.shutdown(ctx); err != nil {
			t.Errorf("shutdown %s server: %v", model, err)
		}
	})
	return srv
}

// newServer is startServer for a test that shuts the server down itself.
func newServer(t testing.TB, model string, mutate func(*serveConfig)) server {
	t.Helper()
	cfg := serveConfig{
		addr: "127.0.0.1:0", proto: "echo", model: model, loops: 2, pin: false,
		lb: "reuseport", maxConns: -1, idleTimeout: time.Minute, readBuf: 64 << 10,
		offloadPolicy: "pause", headerTimeout: 10 * time.Second, maxHeader: 8 << 10, maxBody: 1 << 20,
		drainTimeout: 10 * time.Second, drainGrace: time.Second,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	proto, err := protocolOf(cfg)
	if err != nil {
		t.Fatalf("protocol %s: %v", cfg.proto, err)
	}
	var srv server
	if model == "loop" {
		srv, err = startLoopServer(cfg, proto, log)
	} else {
		srv, err = startGoroutineServer(cfg, proto, log)
	}
	if err != nil {
		t.Fatalf("start %s server: %v", model, err)
	}
	return srv
}

func forEachModel(t *testing.T, fn func(t *testing.T, model string)) {
	for _, m := range []string{"loop", "goroutine"} {
		t.Run(m, func(t *testing.T) { fn(t, m) })
	}
}

// payloadSize draws sizes from 1 B to 1 MiB, evenly over the powers of two,
// so small and large payloads are both common; the first and second
// connections always get the extremes.
func payloadSize(r *rand.Rand, i int) int {
	switch i {
	case 0:
		return 1
	case 1:
		return 1 << 20
	}
	shift := r.IntN(21)
	return 1 + r.IntN(1<<shift)
}

// echoOnce writes payload in random chunk sizes while a second goroutine
// reads the echo back, and checks every byte in order.
func echoOnce(addr string, payload []byte, seed uint64) error {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(60 * time.Second))
	werr := make(chan error, 1)
	go func() {
		r := rand.New(rand.NewPCG(seed, 1))
		p := payload
		for len(p) > 0 {
			n := min(len(p), 1+r.IntN(64<<10))
			if _, err := c.Write(p[:n]); err != nil {
				werr <- err
				return
			}
			p = p[n:]
		}
		werr <- nil
	}()
	got := make([]byte, len(payload))
	if _, err := io.ReadFull(c, got); err != nil {
		return fmt.Errorf("read echo of %d bytes: %w", len(payload), err)
	}
	if err := <-werr; err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if i := firstDiff(got, payload); i >= 0 {
		return fmt.Errorf("echo of %d bytes differs first at byte %d", len(payload), i)
	}
	return nil
}

func firstDiff(a, b []byte) int {
	if bytes.Equal(a, b) {
		return -1
	}
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestEchoIntegrity runs 2,000 concurrent connections with payloads from
// 1 B to 1 MiB written in random chunks, on both models, and checks every
// byte comes back in order.
func TestEchoIntegrity(t *testing.T) {
	const conns = 2000
	forEachModel(t, func(t *testing.T, model string) {
		addr := startModel(t, model, nil)
		r := rand.New(rand.NewPCG(42, 7))
		src := make([]byte, 1<<20)
		for i := range src {
			src[i] = byte(r.Uint32())
		}
		var wg sync.WaitGroup
		errs := make(chan error, conns)
		total := 0
		for i := range conns {
			size := payloadSize(r, i)
			total += size
			off := r.IntN(len(src) - size + 1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := echoOnce(addr, src[off:off+size], uint64(i)); err != nil {
					errs <- fmt.Errorf("conn %d: %w", i, err)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		t.Logf("%s: %d connections, %d bytes echoed", model, conns, total)
	})
}

// TestSpareProc checks when the loop model raises GOMAXPROCS: to one P
// more than the loops when they would hold every P, never when the
// environment set GOMAXPROCS or a P is spare already.
func TestSpareProc(t *testing.T) {
	for _, c := range []struct {
		loops, procs int
		env          string
		want         int
	}{
		{1, 1, "", 2},  // taskset -c 0: the benchmark's case
		{4, 4, "", 5},  // the default -loops
		{8, 4, "", 9},  // more loops than Ps
		{1, 2, "", 0},  // a P spare already
		{2, 8, "", 0},  // many spare
		{1, 1, "1", 0}, // the operator's choice stands
	} {
		if got := spareProc(c.loops, c.procs, c.env); got != c.want {
			t.Errorf("spareProc(%d, %d, %q) = %d, want %d", c.loops, c.procs, c.env, got, c.want)
		}
	}
}
