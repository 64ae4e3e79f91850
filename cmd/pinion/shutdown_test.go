package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"
)

// TestShutdownBoundBlockedOffload covers the defect "`pinion serve -proto
// http -offload-workers 2` with ten `GET /block?ms=10000` in flight exits
// 49.7 s after SIGTERM, despite its 10 s deadline": the server's shutdown
// (the path SIGTERM takes, with a shorter deadline here) returns by its
// deadline while the blocking work still sleeps, and the eight requests
// queued behind it never start.
func TestShutdownBoundBlockedOffload(t *testing.T) {
	cfg := serveConfig{
		addr: "127.0.0.1:0", proto: "http", model: "loop", loops: 1, pin: false,
		lb: "reuseport", maxConns: -1, idleTimeout: time.Minute, readBuf: 64 << 10,
		offloadWorkers: 2, offloadQueue: 64, offloadPolicy: "pause",
		headerTimeout: 10 * time.Second, maxHeader: 8 << 10, maxBody: 1 << 20,
	}
	p, err := protocolOf(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := startLoopServer(cfg, p, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		c, err := net.DialTimeout("tcp", srv.addr(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := fmt.Fprintf(c, "GET /block?ms=10000 HTTP/1.1\r\nHost: test%d\r\n\r\n", i); err != nil {
			t.Fatal(err)
		}
	}
	e := srv.(*loopServer).e
	for deadline := time.Now().Add(10 * time.Second); e.Stats().Offload.Busy < 2; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the two workers never got busy: %+v", e.Stats().Offload)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.shutdown(ctx) }()
	select {
	case err = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("shutdown with a 300ms deadline still waiting after 5s for /block work")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("shutdown: %v; want context.DeadlineExceeded", err)
	}
	// /block's sleep honours its context, so once the deadline cancels it
	// nothing is left stuck (engine's TestShutdownBound covers tasks that
	// ignore their context).
	if s := e.Stats().Offload; s.Stuck != 0 {
		t.Fatalf("Stats().Offload.Stuck = %d; want 0 (/block honours its cancelled context)", s.Stuck)
	}
}
