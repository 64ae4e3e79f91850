package loop

import (
	"log/slog"
	"math/rand/v2"
	"slices"
	"testing"
	"testing/synctest"
	"time"
)

// timerLoop returns a loop with only what the timer code touches: no
// poller, no sockets. Its clock is the real one, so tests that read it run
// inside a synctest bubble, where time moves only when every goroutine of
// the bubble is blocked.
func timerLoop() *Loop {
	return &Loop{log: slog.New(slog.DiscardHandler), epoch: time.Now()}
}

// entryIndex returns the heap index an entry believes it has.
func entryIndex(e timerEntry) int {
	if e.c != nil {
		return int(e.c.tidx)
	}
	return e.t.idx
}

// checkHeap fails t unless h is a min-heap on when, every entry's index
// names its own slot, and the armed entries are exactly those of want
// (with their times).
func checkHeap(t *testing.T, h timerHeap, want map[any]int64, step int) {
	t.Helper()
	for i := 1; i < len(h); i++ {
		if p := (i - 1) / 2; h[p].when > h[i].when {
			t.Fatalf("step %d: heap order broken: h[%d].when = %d > h[%d].when = %d", step, p, h[p].when, i, h[i].when)
		}
	}
	for i, e := range h {
		if (e.c == nil) == (e.t == nil) {
			t.Fatalf("step %d: h[%d] has conn %v and timer %v; want exactly one", step, i, e.c, e.t)
		}
		if got := entryIndex(e); got != i {
			t.Fatalf("step %d: entry at %d records index %d", step, i, got)
		}
		var key any = e.t
		if e.c != nil {
			key = e.c
		}
		when, ok := want[key]
		if !ok {
			t.Fatalf("step %d: h[%d] is not expected to be armed", step, i)
		}
		if when != e.when {
			t.Fatalf("step %d: h[%d].when = %d; want %d", step, i, e.when, when)
		}
	}
	if len(h) != len(want) {
		t.Fatalf("step %d: heap has %d entries; want %d", step, len(h), len(want))
	}
	if when, ok := h.next(); ok != (len(h) > 0) || ok && when != h[0].when {
		t.Fatalf("step %d: next() = %d, %v with %d entries", step, when, ok, len(h))
	}
}

// TestTimerHeapRandom drives the heap with random pushes, removals and
// moves of connection and timer entries, and checks every invariant after
// each step against a map of what should be armed.
func TestTimerHeapRandom(t *testing.T) {
	for seed := range uint64(20) {
		r := rand.New(rand.NewPCG(seed, 99))
		conns := make([]*Conn, 40)
		for i := range conns {
			conns[i] = &Conn{tidx: -1}
		}
		timers := make([]*Timer, 40)
		for i := range timers {
			timers[i] = &Timer{idx: -1}
		}
		var h timerHeap
		want := map[any]int64{}
		// Few distinct times, so equal keys are common.
		when := func() int64 { return r.Int64N(50) }

		for step := range 2000 {
			switch op := r.IntN(5); {
			case op == 0: // push a connection if it is not armed
				c := conns[r.IntN(len(conns))]
				if c.tidx < 0 {
					w := when()
					h.push(timerEntry{when: w, c: c})
					want[c] = w
				}
			case op == 1: // push a timer if it is not armed
				tm := timers[r.IntN(len(timers))]
				if tm.idx < 0 {
					w := when()
					h.push(timerEntry{when: w, t: tm})
					want[tm] = w
				}
			case op == 2 && len(h) > 0: // remove any entry
				i := r.IntN(len(h))
				e := h.removeAt(i)
				if entryIndex(e) != -1 {
					t.Fatalf("step %d: removed entry still records index %d", step, entryIndex(e))
				}
				if e.c != nil {
					delete(want, e.c)
				} else {
					delete(want, e.t)
				}
			case op == 3 && len(h) > 0: // move any entry
				i := r.IntN(len(h))
				w := when()
				e := h[i]
				h.fix(i, w)
				if e.c != nil {
					want[e.c] = w
				} else {
					want[e.t] = w
				}
			case op == 4: // remove a connection's entry by connection
				c := conns[r.IntN(len(conns))]
				h.remove(c)
				delete(want, c)
				if c.tidx != -1 {
					t.Fatalf("step %d: remove left tidx = %d", step, c.tidx)
				}
			}
			checkHeap(t, h, want, step)
		}

		// Popping everything yields non-decreasing times.
		last := int64(-1)
		for len(h) > 0 {
			e := h.removeAt(0)
			if e.when < last {
				t.Fatalf("seed %d: popped %d after %d", seed, e.when, last)
			}
			last = e.when
		}
	}
}

// TestTimerHeapRemoveLast removes the last entry, the one case where
// removeAt swaps nothing.
func TestTimerHeapRemoveLast(t *testing.T) {
	a, b := &Timer{idx: -1}, &Timer{idx: -1}
	var h timerHeap
	h.push(timerEntry{when: 1, t: a})
	h.push(timerEntry{when: 2, t: b})
	if e := h.removeAt(1); e.t != b {
		t.Fatalf("removeAt(1) removed %p; want %p", e.t, b)
	}
	checkHeap(t, h, map[any]int64{a: 1}, 0)
	if b.idx != -1 {
		t.Fatalf("removed timer idx = %d; want -1", b.idx)
	}
}

// TestScheduleOrderAndStop schedules functions, stops some (one from inside
// another's callback), and checks what fires, in which order, and what
// Stop reports.
func TestScheduleOrderAndStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := timerLoop()
		var fired []string
		note := func(s string) func() { return func() { fired = append(fired, s) } }

		late := l.Schedule(30*time.Millisecond, note("30ms"))
		l.Schedule(20*time.Millisecond, note("20ms"))
		stopped := l.Schedule(15*time.Millisecond, note("15ms"))
		var stopLate bool
		l.Schedule(10*time.Millisecond, func() {
			fired = append(fired, "10ms")
			stopLate = late.Stop()
		})
		l.Schedule(20*time.Millisecond, note("20ms again"))

		if !stopped.Stop() {
			t.Fatal("Stop of a pending timer = false; want true")
		}
		if stopped.Stop() {
			t.Fatal("second Stop = true; want false")
		}

		time.Sleep(25 * time.Millisecond)
		l.now = l.clock()
		l.fireTimers()
		if !stopLate {
			t.Error("Stop from another timer's callback = false; want true")
		}
		want := []string{"10ms", "20ms", "20ms again"}
		if len(fired) != 3 || fired[0] != "10ms" || !slices.Contains(fired, "20ms") || !slices.Contains(fired, "20ms again") {
			t.Fatalf("fired %q; want %q (the two 20ms ones in either order)", fired, want)
		}
		if len(l.timers) != 0 {
			t.Fatalf("%d entries left in the heap; want 0", len(l.timers))
		}

		time.Sleep(time.Second)
		l.now = l.clock()
		l.fireTimers()
		if len(fired) != 3 {
			t.Fatalf("a stopped timer fired: %q", fired)
		}
		if late.Stop() {
			t.Error("Stop of a stopped timer = true; want false")
		}
	})
}

// TestScheduleNotBeforeDue checks that a timer does not fire a moment
// early and that Stop after it fired reports false.
func TestScheduleNotBeforeDue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := timerLoop()
		n := 0
		tm := l.Schedule(10*time.Millisecond, func() { n++ })
		time.Sleep(10*time.Millisecond - time.Nanosecond)
		l.now = l.clock()
		l.fireTimers()
		if n != 0 {
			t.Fatal("timer fired before it was due")
		}
		time.Sleep(time.Nanosecond)
		l.now = l.clock()
		l.fireTimers()
		if n != 1 {
			t.Fatalf("timer fired %d times when due; want 1", n)
		}
		if tm.Stop() {
			t.Error("Stop after firing = true; want false")
		}
	})
}

// TestSchedulePanic checks that a panicking scheduled function is counted
// and does not keep the other due timers from firing.
func TestSchedulePanic(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := timerLoop()
		ran := false
		l.Schedule(time.Millisecond, func() { panic("boom") })
		l.Schedule(2*time.Millisecond, func() { ran = true })
		time.Sleep(5 * time.Millisecond)
		l.now = l.clock()
		l.fireTimers()
		if !ran {
			t.Error("the timer after a panicking one did not fire")
		}
		if l.st.Panics != 1 {
			t.Errorf("panics = %d; want 1", l.st.Panics)
		}
	})
}

// TestArmConnLazy checks that arming a connection only ever moves its one
// entry earlier: a later deadline leaves it where it is.
func TestArmConnLazy(t *testing.T) {
	l := timerLoop()
	c := &Conn{loop: l, state: stateOpen, tidx: -1}
	steps := []struct {
		arm, want int64
	}{
		{0, -1}, // 0: nothing to arm
		{100, 100},
		{200, 100}, // later: stays
		{50, 50},   // earlier: moves
		{50, 50},
	}
	for i, s := range steps {
		l.armConn(c, s.arm)
		got := int64(-1)
		if c.tidx >= 0 {
			got = l.timers[c.tidx].when
		}
		if got != s.want {
			t.Fatalf("step %d: armConn(%d): entry at %d; want %d", i, s.arm, got, s.want)
		}
		if len(l.timers) > 1 {
			t.Fatalf("step %d: %d entries for one connection", i, len(l.timers))
		}
	}
	c.state = stateClosed
	l.timers.remove(c)
	l.armConn(c, 10)
	if c.tidx != -1 || len(l.timers) != 0 {
		t.Fatalf("a closed connection was armed: tidx %d, %d entries", c.tidx, len(l.timers))
	}
}

// TestIdleTimerRearms checks the lazy idle timeout: when the entry fires
// after the connection was active, nothing is closed and the entry moves to
// the real deadline.
func TestIdleTimerRearms(t *testing.T) {
	const idle = int64(100 * time.Millisecond)
	l := timerLoop()
	l.cfg.IdleTimeout = time.Duration(idle)
	c := &Conn{loop: l, state: stateOpen, tidx: -1}
	l.armConn(c, idle)

	c.lastActive = 60 * int64(time.Millisecond) // activity: the heap is not touched
	if got := l.timers[c.tidx].when; got != idle {
		t.Fatalf("entry at %d after activity; want it left at %d", got, idle)
	}

	l.now = idle
	l.fireTimers()
	if c.state != stateOpen {
		t.Fatalf("state %d after an early wake-up; want open", c.state)
	}
	if c.tidx < 0 {
		t.Fatal("not re-armed after an early wake-up")
	}
	if got, want := l.timers[c.tidx].when, c.lastActive+idle; got != want {
		t.Fatalf("re-armed at %d; want lastActive+IdleTimeout = %d", got, want)
	}
}
