package engine_test

import (
	"bytes"
	"testing"

	"github.com/pinion-net/pinion/engine"
)

// halfCloseEcho echoes and opts in to half-close: after the peer's FIN it
// writes what trailer says (from a later callback, as a proxy would with
// bytes arriving from its other side), then shuts its own write side.
type halfCloseEcho struct {
	engine.BaseHandler
	trailer []byte
}

func (h *halfCloseEcho) OnData(c *engine.Conn) { _, _ = c.Write(c.Next(-1)) }

func (h *halfCloseEcho) OnPeerClose(c *engine.Conn) {
	if len(h.trailer) == 0 {
		_ = c.CloseWrite()
		return
	}
	_ = c.Handle().Post(func(c *engine.Conn, err error) {
		if err != nil {
			return
		}
		_, _ = c.Write(h.trailer)
		_ = c.CloseWrite()
	})
}

// TestHalfCloseHook covers the defect "after the peer's FIN a connection
// cannot be written once the owed bytes are flushed, so a TCP proxy is
// impossible (a client that sent 50 MiB then CloseWrite got 44.8 MB
// back)": a handler that implements OnPeerClose keeps the connection
// writable after the FIN; the client gets every byte back, then EOF.
func TestHalfCloseHook(t *testing.T) {
	tests := []struct {
		name    string
		size    int
		trailer string
	}{
		{"8 MiB", 8 << 20, ""},
		{"1 KiB, then bytes written after the FIN", 1 << 10, "written after your FIN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, addr := startEngine(t, &halfCloseEcho{trailer: []byte(tt.trailer)}, engine.Config{})
			p := newPattern(64 << 10)
			got := sendThenFIN(t, addr, p, tt.size)
			want := tt.size + len(tt.trailer)
			if len(got) != want {
				t.Fatalf("got %d bytes back, then EOF; want %d", len(got), want)
			}
			if i := p.firstDiff(0, got[:tt.size]); i >= 0 {
				t.Fatalf("echoed bytes differ from byte %d", i)
			}
			if !bytes.Equal(got[tt.size:], []byte(tt.trailer)) {
				t.Fatalf("after the echo: %q; want %q", got[tt.size:], tt.trailer)
			}
		})
	}
}
