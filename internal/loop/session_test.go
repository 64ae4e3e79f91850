package loop

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// goExecutor runs every offloaded function on a goroutine of its own.
type goExecutor struct{}

func (goExecutor) TrySubmit(fn func()) error { go fn(); return nil }

// TestSessionWritePastDeadline covers the defect "Session.Write with an
// expired write deadline still sends the bytes and returns (0, timeout) or
// (n, nil) from run to run": it sends nothing and returns
// (0, os.ErrDeadlineExceeded), every time.
func TestSessionWritePastDeadline(t *testing.T) {
	const rounds = 20
	type result struct {
		n   int
		err error
	}
	results := make(chan result, rounds)
	h := &fnHandler{open: func(c *Conn) {
		err := c.OffloadSession(func(_ context.Context, nc net.Conn) {
			for range rounds {
				_ = nc.SetWriteDeadline(time.Now().Add(-time.Second))
				n, err := nc.Write([]byte("late"))
				results <- result{n, err}
			}
			_ = nc.SetWriteDeadline(time.Time{})
			_, _ = nc.Write([]byte("ok"))
		})
		if err != nil {
			t.Errorf("OffloadSession: %v", err)
		}
	}}
	l := runLoop(t, Config{Handler: h, Offload: goExecutor{}})
	peer := adoptPair(t, l)
	for i := range rounds {
		r := recv(t, results, "a Write")
		if r.n != 0 || !errors.Is(r.err, os.ErrDeadlineExceeded) {
			t.Fatalf("Write %d past its deadline: (%d, %v); want (0, os.ErrDeadlineExceeded)", i, r.n, r.err)
		}
	}
	got, err := io.ReadAll(peer)
	if err != nil || string(got) != "ok" {
		t.Fatalf("peer read %q, %v; want only the bytes written in time, \"ok\", then EOF", got, err)
	}
}
