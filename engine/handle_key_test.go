package engine_test

import (
	"net"
	"testing"
	"time"

	"github.com/pinion-net/pinion/engine"
)

// TestHandleIsAMapKey checks what Handle's documentation promises a chat
// server: a connection's Handle equals itself from every callback, and
// differs from every other connection's, across loops.
func TestHandleIsAMapKey(t *testing.T) {
	type event struct {
		h    engine.Handle
		kind string
	}
	events := make(chan event, 64)
	h := &echoHandler{
		onOpen:  func(c *engine.Conn) { events <- event{c.Handle(), "open"} },
		onClose: func(c *engine.Conn, _ error) { events <- event{c.Handle(), "close"} },
	}
	cfg := testConfig()
	cfg.Loops = 2
	_, addr := startEngine(t, h, cfg)
	const n = 6
	seen := map[engine.Handle]int{}
	for i := range n {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		roundTrip(t, c, "x")
		ev := receive(t, events, 5*time.Second, "OnOpen")
		if ev.kind != "open" {
			t.Fatalf("connection %d: got %s, want open", i, ev.kind)
		}
		seen[ev.h] = i
		_ = c.Close()
		ev = receive(t, events, 5*time.Second, "OnClose")
		if j, ok := seen[ev.h]; ev.kind != "close" || !ok || j != i {
			t.Fatalf("connection %d: OnClose's Handle %v maps to %d (found %v), want the Handle OnOpen saw", i, ev.h, j, ok)
		}
	}
	if len(seen) != n {
		t.Errorf("%d connections gave %d distinct Handles, want %d", n, len(seen), n)
	}
}
