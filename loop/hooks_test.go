package loop

import (
	"io"
	"testing"
)

// drainHandler writes size bytes in OnOpen and reports OnDrained.
type drainHandler struct {
	fnHandler
	size    int
	drained chan int
}

func (h *drainHandler) OnOpen(c *Conn) { _, _ = c.Write(make([]byte, h.size)) }

func (h *drainHandler) OnDrained(c *Conn) { h.drained <- c.OutboundBuffered() }

// TestOnDrained covers "no notification when owed bytes drain": a
// connection whose owed bytes passed WriteHigh gets OnDrained once they
// fell to WriteLow, while it is open.
func TestOnDrained(t *testing.T) {
	const low, high, size = 64 << 10, 256 << 10, 4 << 20
	h := &drainHandler{size: size, drained: make(chan int, 4)}
	l := runLoop(t, Config{Handler: h, WriteLow: low, WriteHigh: high, WriteMax: 2 * size})
	peer := adoptPair(t, l)
	n, err := io.CopyN(io.Discard, peer, size)
	if err != nil {
		t.Fatalf("read %d bytes: %v", n, err)
	}
	if owed := recv(t, h.drained, "OnDrained"); owed > low {
		t.Fatalf("OnDrained with %d bytes owed; want <= WriteLow (%d)", owed, low)
	}
	if len(h.drained) != 0 {
		t.Fatalf("OnDrained called %d more times; want once", len(h.drained))
	}
}
