package engine_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pinion-net/pinion/engine"
)

func TestLimitsValidate(t *testing.T) {
	good := engine.Limits{MaxConns: 10, IdleTimeout: time.Second, SlowCallback: -1, OffloadPolicy: engine.OffloadReject}
	if err := good.Validate(); err != nil {
		t.Fatalf("Validate(%+v): %v", good, err)
	}
	tests := []struct {
		name string
		edit func(*engine.Limits)
		want string
	}{
		{"zero max", func(l *engine.Limits) { l.MaxConns = 0 }, "MaxConns"},
		{"zero idle", func(l *engine.Limits) { l.IdleTimeout = 0 }, "IdleTimeout"},
		{"zero slow", func(l *engine.Limits) { l.SlowCallback = 0 }, "SlowCallback"},
		{"bad policy", func(l *engine.Limits) { l.OffloadPolicy = 9 }, "OffloadPolicy"},
	}
	for _, tt := range tests {
		l := good
		tt.edit(&l)
		err := l.Validate()
		if !errors.Is(err, engine.ErrBadLimits) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Validate = %v; want ErrBadLimits naming %s", tt.name, err, tt.want)
		}
	}
}

// TestSetLimitsRefusesWhole: a malformed set changes nothing.
func TestSetLimitsRefusesWhole(t *testing.T) {
	e, _, _ := startEcho(t, engine.Config{MaxConns: 7})
	before := e.Limits()
	bad := before
	bad.MaxConns, bad.IdleTimeout = 3, 0
	if err := e.SetLimits(context.Background(), bad); !errors.Is(err, engine.ErrBadLimits) {
		t.Fatalf("SetLimits(%+v) = %v; want ErrBadLimits", bad, err)
	}
	if got := e.Limits(); got != before {
		t.Errorf("after a refused change: %+v, want %+v", got, before)
	}
}

// TestSetLimitsOffloadPolicy switches a running engine between the
// offload policies: under reject a full pool answers busy; back under
// pause the connection waits for room and is served.
func TestSetLimitsOffloadPolicy(t *testing.T) {
	h := &scriptHandler{release: make(chan struct{})}
	e, addr := startEngine(t, h, engine.Config{OffloadWorkers: 1, OffloadQueue: 1, OffloadPolicy: engine.OffloadPause})
	setPolicy := func(p engine.OffloadPolicy) {
		l := e.Limits()
		l.OffloadPolicy = p
		if err := e.SetLimits(context.Background(), l); err != nil {
			t.Fatalf("SetLimits: %v", err)
		}
	}
	block := func() net.Conn {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		_ = c.SetDeadline(time.Now().Add(20 * time.Second))
		if _, err := io.WriteString(c, "block\n"); err != nil {
			t.Fatal(err)
		}
		return c
	}
	read := func(c net.Conn, want string) {
		got := make([]byte, len(want))
		if _, err := io.ReadFull(c, got); err != nil || string(got) != want {
			t.Fatalf("read %q, %v; want %q", got, err, want)
		}
	}
	running := block()
	waitFor(t, 10*time.Second, "the worker to run a task", func() bool { return e.Stats().Offload.Busy == 1 }, nil)
	queued := block()
	waitFor(t, 10*time.Second, "a task to queue", func() bool { return e.Stats().Offload.Depth == 1 }, nil)
	setPolicy(engine.OffloadReject)
	read(block(), "busy\n")
	setPolicy(engine.OffloadPause)
	waiting := block()
	waitFor(t, 10*time.Second, "a connection to wait for the pool", func() bool { return e.Stats().Offload.Waiting == 1 }, nil)
	close(h.release)
	for _, c := range []net.Conn{running, queued, waiting} {
		read(c, "done\n")
	}
	if s := e.Stats().Offload; s.Rejected != 1 {
		t.Errorf("offload rejected %d, want 1", s.Rejected)
	}
}
