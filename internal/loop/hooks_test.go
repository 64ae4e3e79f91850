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

// halfHandler echoes, and after the peer's FIN writes "bye" and shuts its
// own write side.
type halfHandler struct {
	fnHandler
	peerClosed chan bool // whether the connection was still open
}

func (h *halfHandler) OnPeerClose(c *Conn) {
	h.peerClosed <- c.Open()
	_, _ = c.Write([]byte("bye"))
	_ = c.CloseWrite()
}

// TestOnPeerClose covers "after the peer's FIN a connection cannot be
// written": a PeerCloser keeps the connection open and writable after the
// FIN, and closes it with CloseWrite.
func TestOnPeerClose(t *testing.T) {
	reasons := make(chan error, 1)
	h := &halfHandler{peerClosed: make(chan bool, 1)}
	h.data = func(c *Conn) { _, _ = c.Write(c.Next(-1)) }
	h.close = func(c *Conn, err error) { reasons <- err }
	l := runLoop(t, Config{Handler: h})
	peer := adoptPair(t, l)
	if _, err := peer.Write([]byte("ping ")); err != nil {
		t.Fatal(err)
	}
	if err := peer.(interface{ CloseWrite() error }).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(peer)
	if err != nil || string(got) != "ping bye" {
		t.Fatalf("peer read %q, %v; want \"ping bye\", then EOF", got, err)
	}
	if !recv(t, h.peerClosed, "OnPeerClose") {
		t.Fatal("the connection was not open in OnPeerClose")
	}
	if err := recv(t, reasons, "OnClose"); err != nil {
		t.Fatalf("OnClose reason %v; want nil (both sides shut cleanly)", err)
	}
}
