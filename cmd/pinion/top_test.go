package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestTopOnce runs `pinion top -once` against a two-loop echo server
// (round-robin, so both loops get connections) under load, and parses
// its frame: it fits 80×24, and every loop has connections and traffic.
func TestTopOnce(t *testing.T) {
	cfg, err := parseServe([]string{"-addr", "127.0.0.1:0", "-loops", "2", "-pin=false", "-lb", "roundrobin", "-admin", "127.0.0.1:0"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	p, err := protocolOf(cfg)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	srv, err := startLoopServer(cfg, p, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.shutdown(ctx)
	})
	adm, err := startAdmin(cfg, srv, new(slog.LevelVar), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeAdmin(adm, log) })

	stop, running := make(chan struct{}), make(chan struct{})
	type loadResult struct {
		conns []net.Conn
		err   error
	}
	loaded := make(chan loadResult, 1)
	go func() {
		cs, err := heldEchoLoad(srv.addr(), 8, 1_000_000, running, stop)
		loaded <- loadResult{cs, err}
	}()
	<-running
	code, frame, stderr := cliRun("top", "-admin", adm.Addr(), "-once", "-interval", "300ms")
	close(stop)
	lr := <-loaded
	for _, c := range lr.conns {
		c.Close()
	}
	if lr.err != nil {
		t.Fatal(lr.err)
	}
	if code != 0 {
		t.Fatalf("pinion top -once: status %d\n%s", code, stderr)
	}
	t.Logf("frame:\n%s", frame)
	lines := strings.Split(strings.TrimRight(frame, "\n"), "\n")
	if len(lines) > 24 || strings.Contains(frame, "\x1b") {
		t.Errorf("frame has %d lines (want at most 24) or ANSI codes", len(lines))
	}
	rows := 0
	for _, l := range lines {
		if len(l) > 80 {
			t.Errorf("line wider than 80 columns: %q", l)
		}
		f := strings.Fields(l)
		if len(f) != 9 {
			continue
		}
		id, err := strconv.Atoi(f[0])
		if err != nil {
			continue // the header or the total
		}
		rows++
		if f[1] == "0" || f[4] == "0B" || f[5] == "0B" {
			t.Errorf("loop %d: connections %s, in %s/s, out %s/s; want all non-zero", id, f[1], f[4], f[5])
		}
	}
	if rows != 2 {
		t.Errorf("frame lists %d loops, want 2", rows)
	}
}
