package loop

import (
	"testing"
	"time"

	"github.com/pinion-net/pinion/internal/tcptest"
)

// TestSlowCallbackEveryKind covers the defect "the slow-callback detector
// and HandlerTime see only OnData": a callback of each kind that blocks the
// loop past Config.SlowCallback is counted, and its time is in
// HandlerTime.
func TestSlowCallbackEveryKind(t *testing.T) {
	const limit, nap = 40 * time.Millisecond, 50 * time.Millisecond
	sleep := func() { time.Sleep(nap) } // the slow handler code under test
	cases := []struct {
		name  string
		h     func(h *fnHandler)
		cfg   func(c *Config)
		start func(t *testing.T, l *Loop)
	}{
		{name: "OnOpen", h: func(h *fnHandler) { h.open = func(*Conn) { sleep() } },
			start: func(t *testing.T, l *Loop) { adoptPair(t, l) }},
		{name: "OnData", h: func(h *fnHandler) { h.data = func(c *Conn) { c.Discard(-1); sleep() } },
			start: func(t *testing.T, l *Loop) { _, _ = adoptPair(t, l).Write([]byte("x")) }},
		{name: "OnClose", h: func(h *fnHandler) { h.close = func(*Conn, error) { sleep() } },
			start: func(t *testing.T, l *Loop) { _ = adoptPair(t, l).Close() }},
		{name: "OnTick", h: func(h *fnHandler) {
			first := true
			h.tick = func(*Loop) {
				if first {
					first = false
					sleep()
				}
			}
		}, cfg: func(c *Config) { c.TickInterval = time.Millisecond }},
		{name: "posted function", start: func(t *testing.T, l *Loop) { _ = l.Post(sleep) }},
		{name: "posted connection function", h: func(h *fnHandler) {
			h.open = func(c *Conn) { _ = c.Handle().Post(func(*Conn, error) { sleep() }) }
		}, start: func(t *testing.T, l *Loop) { adoptPair(t, l) }},
		{name: "timer", start: func(t *testing.T, l *Loop) {
			_ = l.Post(func() { l.Schedule(0, sleep) })
		}},
		{name: "write completion", h: func(h *fnHandler) {
			h.open = func(c *Conn) { _ = c.Handle().AsyncWrite([]byte("x"), func(error) { sleep() }) }
		}, start: func(t *testing.T, l *Loop) { adoptPair(t, l) }},
		{name: "dial completion", start: func(t *testing.T, l *Loop) {
			_ = l.DialAsync(tcptest.Serve(t, nil), nil, func(Handle, error) { sleep() })
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := &fnHandler{}
			if tc.h != nil {
				tc.h(h)
			}
			cfg := Config{Handler: h, SlowCallback: limit}
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			l := runLoop(t, cfg)
			if tc.start != nil {
				tc.start(t, l)
			}
			waitStats(t, l, func(s Stats) bool { return s.SlowCallbacks >= 1 && s.HandlerTime >= nap })
		})
	}
}
