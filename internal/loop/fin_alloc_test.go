package loop

import (
	"errors"
	"io"
	"net"
	"testing"
)

// TestPeerFINClosesWithoutAllocating: a peer that sends FIN when nothing
// is owed gets its connection closed with io.EOF, and the loop allocates
// nothing to do it (it used to allocate the connection's extension only
// to hold the reason: one garbage object per connection its peer closed).
func TestPeerFINClosesWithoutAllocating(t *testing.T) {
	const runs = 20
	closed := make(chan error, 1)
	h := &fnHandler{close: func(c *Conn, err error) { closed <- err }}
	l := runLoop(t, Config{Handler: h})
	peers := make([]net.Conn, runs+1) // AllocsPerRun runs f once more to warm up
	for i := range peers {
		peers[i] = adoptPair(t, l)
	}
	i := 0
	allocs := testing.AllocsPerRun(runs, func() {
		// Shut the peer's write side only: the FIN, without the
		// allocations of closing a net.Conn.
		_ = peers[i].(interface{ CloseWrite() error }).CloseWrite()
		i++
		if err := <-closed; !errors.Is(err, io.EOF) {
			t.Errorf("OnClose reason %v, want io.EOF", err)
		}
	})
	if allocs > 0 {
		t.Fatalf("%.1f allocations per connection closed by its peer, want 0", allocs)
	}
}
