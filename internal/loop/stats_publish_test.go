package loop

import (
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// waitWaiting polls until l is blocked in its poll with tallies it has
// not published (or may be: the mark is set just before the poll), for up
// to 10s.
func waitWaiting(t *testing.T, l *Loop) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !l.stats.waiting.Load() {
		if time.Now().After(deadline) {
			t.Fatalf("the loop never waited with unpublished tallies")
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// TestStatsExactWhenIdle checks ADR 0019's promise on both backends: a
// loop that publishes rarely (StatsInterval of an hour) leaves its
// published figures behind while it works, and Stats, called once while
// it waits for events, is exact anyway: bytes in and out, connections,
// the tick and callback histograms' counts. The loop is woken to publish
// and goes back to waiting, and the next Stats does not need it again.
func TestStatsExactWhenIdle(t *testing.T) {
	forEachIO(t, func(t *testing.T, mode IOMode) {
		const msg = "exact once idle"
		h := &fnHandler{data: echoAll}
		l := runLoop(t, Config{Handler: h, IO: mode, StatsInterval: time.Hour})
		peer := adoptPair(t, l)
		if _, err := peer.Write([]byte(msg)); err != nil {
			t.Fatalf("write: %v", err)
		}
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(peer, got); err != nil || string(got) != msg {
			t.Fatalf("echo: got %q, %v; want %q", got, err, msg)
		}
		waitWaiting(t, l)
		if p := l.Published(); p.BytesIn == uint64(len(msg)) {
			t.Errorf("Published shows the bytes of the last hour before the loop was asked: %+v", p.Counters)
		}
		s := l.Stats() // once: no polling
		if s.BytesIn != uint64(len(msg)) || s.BytesOut != uint64(len(msg)) || s.Opened != 1 || s.Conns != 1 {
			t.Errorf("Stats of the waiting loop: BytesIn %d, BytesOut %d, Opened %d, Conns %d; want %d, %d, 1, 1",
				s.BytesIn, s.BytesOut, s.Opened, s.Conns, len(msg), len(msg))
		}
		if n := count(s.CallbackTime); n < 2 { // OnOpen and OnData at least
			t.Errorf("Stats of the waiting loop counts %d timed callbacks, want at least 2", n)
		}
		if n := count(s.TickTime); n < 2 {
			t.Errorf("Stats of the waiting loop counts %d busy ticks, want at least 2", n)
		}
		if p := l.Published(); p.BytesIn != s.BytesIn || p.BytesOut != s.BytesOut {
			t.Errorf("Published after Stats: BytesIn %d, BytesOut %d; want Stats' %d, %d", p.BytesIn, p.BytesOut, s.BytesIn, s.BytesOut)
		}

	})
}

// TestStatsConnEventsEachTick checks that connections coming and going
// are published at the end of their tick, StatsInterval or not: a reader
// that connected or closed and then reads Stats once (as many tests and
// dashboards do) sees it as soon as the loop has moved on, even while
// the loop is busy and so is not woken to publish. Published, which
// never asks, shows it.
func TestStatsConnEventsEachTick(t *testing.T) {
	forEachIO(t, func(t *testing.T, mode IOMode) {
		h := &fnHandler{data: echoAll}
		l := runLoop(t, Config{Handler: h, IO: mode, StatsInterval: time.Hour})
		peer := adoptPair(t, l)
		// Two exchanges: the second is served by a later tick than the
		// one that opened the connection, so that tick has ended.
		for _, msg := range []string{"first", "second"} {
			if _, err := peer.Write([]byte(msg)); err != nil {
				t.Fatalf("write: %v", err)
			}
			got := make([]byte, len(msg))
			if _, err := io.ReadFull(peer, got); err != nil || string(got) != msg {
				t.Fatalf("echo: got %q, %v; want %q", got, err, msg)
			}
		}
		if p := l.Published(); p.Opened != 1 || p.Conns != 1 {
			t.Errorf("Published after the open's tick: Opened %d, Conns %d; want 1, 1", p.Opened, p.Conns)
		}
		_ = peer.Close()
		deadline := time.Now().Add(10 * time.Second)
		for l.Published().Closed == 0 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if p := l.Published(); p.Closed != 1 || p.ClosedBy[ClosePeer] != 1 || p.Conns != 0 {
			t.Errorf("Published after the peer closed: Closed %d, ClosedBy peer %d, Conns %d; want 1, 1, 0",
				p.Closed, p.ClosedBy[ClosePeer], p.Conns)
		}
	})
}

// TestStatsPublishedWhileBusy checks the other half of the bound: a loop
// that never waits (a timer that reschedules itself at once keeps every
// poll non-blocking) still publishes, every StatsInterval; with an
// interval of an hour it does not.
func TestStatsPublishedWhileBusy(t *testing.T) {
	for _, tc := range []struct {
		interval  time.Duration
		publishes bool
	}{{time.Millisecond, true}, {time.Hour, false}} {
		t.Run(tc.interval.String(), func(t *testing.T) {
			var l *Loop
			var again func()
			again = func() { l.Schedule(0, again) }
			l = runLoop(t, Config{Handler: &fnHandler{}, StatsInterval: tc.interval})
			if err := l.Post(func() { l.Schedule(0, again) }); err != nil {
				t.Fatalf("Post: %v", err)
			}
			// Each run of the timer is a timed callback.
			deadline := time.Now().Add(200 * time.Millisecond)
			for time.Now().Before(deadline) && count(l.Published().CallbackTime) < 100 {
				time.Sleep(time.Millisecond)
			}
			n := count(l.Published().CallbackTime)
			if tc.publishes && n < 100 {
				t.Errorf("a loop busy for 200ms published %d timed callbacks, want at least 100", n)
			}
			if !tc.publishes && n != 0 {
				t.Errorf("a loop busy for 200ms with StatsInterval %v published %d timed callbacks, want none yet", tc.interval, n)
			}
			if l.stats.waiting.Load() {
				t.Errorf("the busy loop marked itself waiting")
			}
		})
	}
}

// echoAll writes back all the input c holds.
func echoAll(c *Conn) {
	b := c.Peek(-1)
	_, _ = c.Write(b)
	c.Discard(len(b))
}

// count returns how many durations h counted.
func count(h HistogramSnapshot) uint64 {
	var n uint64
	for _, c := range h.Counts {
		n += c
	}
	return n
}

// TestStatsBeforeTasks checks that a loop publishes before it runs posted
// tasks: with StatsInterval an hour, a busy loop (a timer rescheduling
// itself, so that no poll waits) shows in Stats, right after a posted
// function returned, the bytes of an echo the peer had already received.
func TestStatsBeforeTasks(t *testing.T) {
	const msg = "published before the task"
	h := &fnHandler{data: echoAll}
	var l *Loop
	var again func()
	again = func() { l.Schedule(0, again) }
	l = runLoop(t, Config{Handler: h, StatsInterval: time.Hour})
	peer := adoptPair(t, l)
	if err := l.Post(func() { l.Schedule(0, again) }); err != nil {
		t.Fatalf("Post: %v", err)
	}
	if _, err := peer.Write([]byte(msg)); err != nil {
		t.Fatalf("write: %v", err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(peer, got); err != nil || string(got) != msg {
		t.Fatalf("echo: got %q, %v; want %q", got, err, msg)
	}
	done := make(chan struct{})
	if err := l.Post(func() { close(done) }); err != nil {
		t.Fatalf("Post: %v", err)
	}
	recv(t, done, "the posted function")
	if s := l.Stats(); s.BytesIn != uint64(len(msg)) || s.BytesOut != uint64(len(msg)) {
		t.Errorf("Stats after a posted function: BytesIn %d, BytesOut %d; want %d each", s.BytesIn, s.BytesOut, len(msg))
	}
}

// TestStatsConcurrentReaders calls Stats from several goroutines at once
// while a peer's echoes take the loop from waiting to busy and back, and
// fails if any call does not return: every reader that waits for the loop
// to publish must be answered. A reader whose request an answer to an
// earlier one cleared once waited until the loop stopped (make test's
// admin suite hung on it for its whole 15 minutes).
func TestStatsConcurrentReaders(t *testing.T) {
	forEachIO(t, func(t *testing.T, mode IOMode) {
		h := &fnHandler{data: echoAll}
		l := runLoop(t, Config{Handler: h, IO: mode, StatsInterval: time.Hour})
		peer := adoptPair(t, l)
		const readers, echoes = 4, 500
		var calls atomic.Int64
		echoed := make(chan error, 1)
		// Each echo leaves the loop waiting with unpublished tallies, so
		// the next Stats wakes it.
		go func() {
			buf := make([]byte, 1)
			for range echoes {
				if _, err := peer.Write(buf); err != nil {
					echoed <- err
					return
				}
				if _, err := io.ReadFull(peer, buf); err != nil {
					echoed <- err
					return
				}
			}
			echoed <- nil
		}()
		var stop atomic.Bool
		var wg sync.WaitGroup
		for range readers {
			wg.Go(func() {
				for !stop.Load() {
					l.Stats()
					calls.Add(1)
				}
			})
		}
		returned := make(chan struct{})
		go func() { wg.Wait(); close(returned) }()
		select {
		case err := <-echoed:
			stop.Store(true)
			if err != nil {
				t.Fatalf("echo: %v", err)
			}
		case <-time.After(60 * time.Second):
			stop.Store(true)
			t.Fatalf("%d echoes did not finish in 60s", echoes)
		}
		select {
		case <-returned:
		case <-time.After(5 * time.Second):
			t.Fatalf("a Stats call did not return within 5s of the echoes' end (%d calls returned)", calls.Load())
		}
	})
}
