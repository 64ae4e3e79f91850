package engine_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pinion-net/pinion/engine"
)

// scriptHandler serves lines: "panic" panics, "flood" writes past the
// outbound cap, "slow" blocks the loop for slowFor, "block" offloads a task
// that waits for release (answering "busy" when the pool refuses it, "done"
// when it ran); any other line is echoed.
type scriptHandler struct {
	engine.BaseHandler
	release chan struct{}
	slowFor time.Duration
	flood   []byte
}

func (h *scriptHandler) OnData(c *engine.Conn) {
	for {
		in := c.Peek(-1)
		i := bytes.IndexByte(in, '\n')
		if i < 0 {
			return
		}
		line := string(in[:i])
		switch line {
		case "panic":
			panic("scripted panic")
		case "flood":
			c.Discard(i + 1)
			_, _ = c.Write(h.flood)
			return
		case "slow":
			time.Sleep(h.slowFor) // blocks the loop on purpose
			_, _ = c.Write(in[:i+1])
		case "block":
			err := c.Offload(func(ctx context.Context, w io.Writer) error {
				select {
				case <-h.release:
				case <-ctx.Done():
				}
				_, err := io.WriteString(w, "done\n")
				return err
			})
			if errors.Is(err, engine.ErrOffloadFull) {
				_, _ = c.Write([]byte("busy\n"))
			}
		default:
			_, _ = c.Write(in[:i+1])
		}
		c.Discard(i + 1)
	}
}

// TestCountersMatchGroundTruth runs a script — N connections of M echo
// requests, a slow callback, a handler panic, an outbound overflow, three
// offloads of which the pool refuses one, K idle timeouts — and then checks
// every counter the script decides, as the exposition writes it, against
// what the script did.
func TestCountersMatchGroundTruth(t *testing.T) {
	const (
		N, M, K  = 6, 20, 3
		writeMax = 64 << 10
		slowFor  = 300 * time.Millisecond
	)
	h := &scriptHandler{release: make(chan struct{}), slowFor: slowFor, flood: make([]byte, 2*writeMax)}
	e, addr := startEngine(t, h, engine.Config{
		WriteLow: 1 << 10, WriteHigh: 32 << 10, WriteMax: writeMax,
		IdleTimeout:    time.Minute,
		SlowCallback:   slowFor / 2,
		OffloadWorkers: 1, OffloadQueue: 1, OffloadPolicy: engine.OffloadReject,
	})
	var sent, received int
	dial := func() net.Conn {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		_ = c.SetDeadline(time.Now().Add(30 * time.Second))
		return c
	}
	send := func(c net.Conn, line string) {
		if _, err := io.WriteString(c, line+"\n"); err != nil {
			t.Fatalf("write %q: %v", line, err)
		}
		sent += len(line) + 1
	}
	expect := func(c net.Conn, line string) {
		got := make([]byte, len(line)+1)
		if _, err := io.ReadFull(c, got); err != nil || string(got) != line+"\n" {
			t.Fatalf("read %q: got %q, %v", line, got, err)
		}
		received += len(got)
	}
	expectClosed := func(c net.Conn, what string) {
		if n, err := c.Read(make([]byte, 1)); err == nil {
			t.Fatalf("%s: read %d bytes, want the connection closed", what, n)
		}
		c.Close()
	}

	// N connections, M requests each, closed by the client.
	for i := range N {
		c := dial()
		for j := range M {
			msg := fmt.Sprintf("conn %d request %d", i, j)
			send(c, msg)
			expect(c, msg)
		}
		if i == 0 {
			send(c, "slow")
			expect(c, "slow")
		}
		c.Close()
	}
	// A panic and an overflow: each closes its connection.
	pc := dial()
	send(pc, "panic")
	expectClosed(pc, "after the panic")
	fc := dial()
	send(fc, "flood")
	expectClosed(fc, "after the overflow")
	// Three offloads: one runs, one queues, the pool refuses the third.
	var oc [3]net.Conn
	for i := range oc {
		oc[i] = dial()
		send(oc[i], "block")
		switch i {
		case 0:
			waitFor(t, 10*time.Second, "the worker to run the first task", func() bool { return e.Stats().Offload.Busy == 1 }, nil)
		case 1:
			waitFor(t, 10*time.Second, "the second task to queue", func() bool { return e.Stats().Offload.Depth == 1 }, nil)
		case 2:
			expect(oc[2], "busy")
		}
	}
	close(h.release)
	expect(oc[0], "done")
	expect(oc[1], "done")
	for _, c := range oc {
		c.Close()
	}
	opened := N + 2 + len(oc)
	waitFor(t, 10*time.Second, "every connection so far to close", func() bool { return e.Stats().Closed == uint64(opened) },
		func() string { return fmt.Sprint(e.Stats().Counters) })

	// K idle connections, closed once the idle timeout drops under their
	// idleness; each reads the server's FIN and closes.
	var idle []net.Conn
	for range K {
		idle = append(idle, dial())
	}
	waitFor(t, 10*time.Second, "the idle connections to open", func() bool { return e.Stats().Conns == K }, nil)
	lim := e.Limits()
	lim.IdleTimeout = 50 * time.Millisecond
	if err := e.SetLimits(context.Background(), lim); err != nil {
		t.Fatalf("SetLimits: %v", err)
	}
	for _, c := range idle {
		expectClosed(c, "an idle connection")
	}
	opened += K
	waitFor(t, 10*time.Second, "every connection to close", func() bool { return e.Stats().Closed == uint64(opened) },
		func() string { return fmt.Sprint(e.Stats().Counters) })

	series, _ := parseExposition(t, scrape(t, e))
	sum := func(name string, labels ...string) float64 {
		var v float64
		for s, x := range series {
			fam, rest, _ := strings.Cut(s, "{")
			if fam != name {
				continue
			}
			match := true
			for _, l := range labels {
				match = match && strings.Contains(rest, l)
			}
			if match {
				v += x
			}
		}
		return v
	}
	want := []struct {
		series string
		labels []string
		want   int
	}{
		{"pinion_connections_accepted_total", nil, opened},
		{"pinion_connections_opened_total", nil, opened},
		{"pinion_connections_rejected_total", nil, 0},
		{"pinion_connections_dialed_total", nil, 0},
		{"pinion_connections_closed_total", nil, opened},
		{"pinion_connections_closed_total", []string{`reason="peer"`}, N + len(oc)},
		{"pinion_connections_closed_total", []string{`reason="panic"`}, 1},
		{"pinion_connections_closed_total", []string{`reason="outbound_overflow"`}, 1},
		{"pinion_connections_closed_total", []string{`reason="idle"`}, K},
		{"pinion_connections", nil, 0},
		{"pinion_received_bytes_total", nil, sent},
		{"pinion_sent_bytes_total", nil, received},
		{"pinion_panics_total", nil, 1},
		{"pinion_slow_callbacks_total", nil, 1},
		{"pinion_accept_pauses_total", nil, 0},
		{"pinion_offload_rejected_total", nil, 1},
		{"pinion_offload_paused_total", nil, 0},
		{"pinion_offload_late_total", nil, 0},
		{"pinion_offload_submitted_total", nil, 2},
		{"pinion_offload_completed_total", nil, 2},
		{"pinion_offload_full_total", nil, 1},
		{"pinion_offload_busy_workers", nil, 0},
		{"pinion_offload_queue_depth", nil, 0},
		{"pinion_offload_queue_high_water", nil, 1},
		{"pinion_outbound_bytes", nil, 0},
		{"pinion_paused_connections", nil, 0},
		{"pinion_offload_run_seconds_count", nil, 2},
	}
	for _, w := range want {
		if got := sum(w.series, w.labels...); got != float64(w.want) {
			t.Errorf("%s%v: got %v, want %d", w.series, w.labels, got, w.want)
		}
	}
	// A blocking poll, an event and a task per loop at least: every loop
	// went idle and handled something.
	for _, name := range []string{"pinion_polls_blocked_total", "pinion_poll_events_total"} {
		for i := range e.Loops() {
			if v := series[fmt.Sprintf(`%s{loop="%d"}`, name, i)]; v == 0 {
				t.Errorf("%s{loop=%d} is 0", name, i)
			}
		}
	}
	if got := sum("pinion_callback_duration_seconds_sum"); got < slowFor.Seconds() {
		t.Errorf("callback time sum %vs; want at least the slow callback's %v", got, slowFor)
	}
}
