package loop

import (
	"errors"
	"io"
	"syscall"
	"testing"
	"unsafe"
)

// TestCounterTable checks what Counters.slots and Gauges.slots rely on,
// and that the tables name every field exactly once: a field added
// without its row fails here.
func TestCounterTable(t *testing.T) {
	if unsafe.Sizeof(Counters{}) != numCounters*8 || unsafe.Sizeof(Gauges{}) != numGauges*8 {
		t.Fatalf("Counters or Gauges hold a field that is not 8 bytes wide")
	}
	seenC, seenG := make([]int, numCounters), make([]int, numGauges)
	Metrics(func(m Metric) {
		if m.gauge {
			seenG[m.off/8]++
		} else {
			seenC[m.off/8]++
		}
	})
	for i, n := range seenC {
		if n != 1 {
			t.Errorf("Counters slot %d is named %d times in counterTable, want once", i, n)
		}
	}
	for i, n := range seenG {
		if n != 1 {
			t.Errorf("Gauges slot %d is named %d times in gaugeTable, want once", i, n)
		}
	}
	var s Stats
	s.AcceptPauses, s.ClosedBy[CloseIdle], s.OffloadPaused = 7, 3, 5
	found := 0
	Metrics(func(m Metric) {
		switch {
		case m.Name == "accept_pauses" && m.Value(&s) == 7,
			m.Name == "connections_closed" && m.LabelValue == "idle" && m.Value(&s) == 3,
			m.Name == "paused_connections" && m.LabelValue == "offload" && m.Value(&s) == 5:
			found++
		}
	})
	if found != 3 {
		t.Errorf("Metric.Value found %d of the 3 fields set, want 3", found)
	}
}

func TestStatsAllocs(t *testing.T) {
	l, err := New(Config{Handler: BaseHandler{}})
	if err != nil {
		t.Fatal(err)
	}
	defer l.p.Close()
	l.st.BytesIn = 5
	if n := testing.AllocsPerRun(100, func() { l.publish(); _ = l.Stats() }); n != 0 {
		t.Errorf("publish and Stats allocate %v times, want 0", n)
	}
	if got := l.Stats().BytesIn; got != 5 {
		t.Errorf("published BytesIn %d, want 5", got)
	}
}

func TestReasonOf(t *testing.T) {
	tests := []struct {
		err  error
		want CloseReason
	}{
		{nil, CloseLocal},
		{ErrClosed, CloseLocal},
		{io.EOF, ClosePeer},
		{ErrIdleTimeout, CloseIdle},
		{ErrReadTimeout, CloseReadTimeout},
		{ErrWriteTimeout, CloseWriteTimeout},
		{ErrDialTimeout, CloseDialTimeout},
		{ErrInboundOverflow, CloseInboundOverflow},
		{ErrOutboundOverflow, CloseOutboundOverflow},
		{ErrShutdown, CloseShutdown},
		{&PanicError{Callback: "OnData", Value: 1}, ClosePanic},
		{&OpError{Op: "read", Err: syscall.ECONNRESET}, CloseReset},
		{&OpError{Op: "write", Err: syscall.EPIPE}, CloseReset},
		{&OpError{Op: "read", Err: syscall.ETIMEDOUT}, CloseError},
		{errors.New("codec: bad frame"), CloseHandler},
	}
	for _, tt := range tests {
		if got := ReasonOf(tt.err); got != tt.want {
			t.Errorf("ReasonOf(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
	seen := map[string]bool{}
	for r := range CloseReason(NumCloseReasons) {
		s := r.String()
		if s == "unknown" || seen[s] {
			t.Errorf("reason %d has the label %q", r, s)
		}
		seen[s] = true
	}
}
