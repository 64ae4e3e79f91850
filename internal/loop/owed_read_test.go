package loop

import (
	"testing"
)

// TestOwedPausesReadOff: a connection that owes more than WriteHigh, its
// peer reading nothing, is still read once SetOwedPausesRead(false) was
// called, so a proxy's two directions move independently. (By default it
// would not be read until the owed bytes drained: the watermark tests.)
func TestOwedPausesReadOff(t *testing.T) {
	const high, owed = 64 << 10, 8 << 20
	got := make(chan int, 64)
	h := &fnHandler{}
	h.open = func(c *Conn) {
		_, _ = c.Write(make([]byte, owed))
		c.SetOwedPausesRead(false)
	}
	h.data = func(c *Conn) {
		got <- c.OutboundBuffered()
		c.Discard(-1)
	}
	l := runLoop(t, Config{Handler: h, WriteLow: high / 4, WriteHigh: high, WriteMax: 2 * owed})
	peer := adoptPair(t, l)
	if _, err := peer.Write([]byte("more input")); err != nil {
		t.Fatal(err)
	}
	if n := recv(t, got, "OnData while owing"); n <= high {
		t.Fatalf("OnData with %d bytes owed; the test wants more than WriteHigh (%d) owed", n, high)
	}
}
