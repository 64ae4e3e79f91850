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

// checkHeap fails t unless h is a min-heap on time, every entry's index
// names its own slot (index reads it), its blocks hold exactly its
// entries, and the armed entries are exactly those of want, by key, with
// their times.
func checkHeap[E heapEntry](t *testing.T, h *heap[E], key func(E) any, index func(E) int, want map[any]int64, step int) {
	t.Helper()
	for b, blk := range h.blocks {
		if want := min(max(h.n-b*heapBlockLen, 0), heapBlockLen); len(blk) != want {
			t.Fatalf("step %d: block %d of %d holds %d entries; want %d of len() = %d", step, b, len(h.blocks), len(blk), want, h.n)
		}
	}
	if spare := len(h.blocks) - (h.n+heapBlockLen-1)/heapBlockLen; spare > 1 {
		t.Fatalf("step %d: %d blocks for %d entries; at most one spare", step, len(h.blocks), h.n)
	}
	for i := range h.len() {
		e := *h.item(i)
		if p := (i - 1) / 2; i > 0 && (*h.item(p)).at() > e.at() {
			t.Fatalf("step %d: heap order broken: h[%d] at %d > h[%d] at %d", step, p, (*h.item(p)).at(), i, e.at())
		}
		if got := index(e); got != i {
			t.Fatalf("step %d: entry at %d records index %d", step, i, got)
		}
		when, ok := want[key(e)]
		if !ok {
			t.Fatalf("step %d: h[%d] is not expected to be armed", step, i)
		}
		if when != e.at() {
			t.Fatalf("step %d: h[%d] at %d; want %d", step, i, e.at(), when)
		}
	}
	if h.len() != len(want) {
		t.Fatalf("step %d: heap has %d entries; want %d", step, h.len(), len(want))
	}
	if when, ok := h.next(); ok != (h.len() > 0) || ok && when != (*h.item(0)).at() {
		t.Fatalf("step %d: next() = %d, %v with %d entries", step, when, ok, h.len())
	}
}

func connKey(e connEntry) any   { return e.c }
func connIndex(e connEntry) int { return e.c.tidx.get() }

// TestDeadlineHeapRandom drives a connection deadline heap with random
// pushes, removals and moves, over enough connections to fill several
// blocks and give them back, and checks every invariant after each step
// against a map of what should be armed.
func TestDeadlineHeapRandom(t *testing.T) {
	for seed := range uint64(8) {
		r := rand.New(rand.NewPCG(seed, 99))
		conns := make([]*Conn, 3*heapBlockLen)
		for i := range conns {
			conns[i] = &Conn{}
		}
		var h heap[connEntry]
		want := map[any]int64{}
		// Few distinct times, so equal keys are common.
		when := func() int64 { return r.Int64N(50) }
		// Phases that favour pushes, then removals, so that the count
		// crosses block boundaries both ways.
		for step := range 9000 {
			grow := step/1500%2 == 0
			pushes := 2 // of 8: in a growing phase 6
			if grow {
				pushes = 6
			}
			switch op := r.IntN(8); {
			case op < pushes: // push a connection if it is not armed
				c := conns[r.IntN(len(conns))]
				if c.tidx.get() < 0 {
					w := when()
					h.push(connEntry{when: w, c: c})
					want[c] = w
				}
			case op < 7 && h.len() > 0: // remove any entry
				e := h.removeAt(r.IntN(h.len()))
				if e.c.tidx.get() != -1 {
					t.Fatalf("step %d: removed entry still records index %d", step, e.c.tidx.get())
				}
				delete(want, e.c)
			case op == 7 && h.len() > 0: // move any entry
				i := r.IntN(h.len())
				e := *h.item(i)
				e.when = when()
				h.fix(i, e)
				want[e.c] = e.when
			}
			checkHeap(t, &h, connKey, connIndex, want, step)
		}

		// Popping everything yields non-decreasing times, and leaves at
		// most the one spare block.
		last := int64(-1)
		for h.len() > 0 {
			e := h.removeAt(0)
			if e.when < last {
				t.Fatalf("seed %d: popped %d after %d", seed, e.when, last)
			}
			last = e.when
		}
		if len(h.blocks) > 1 {
			t.Fatalf("seed %d: %d blocks left in an empty heap; want at most 1", seed, len(h.blocks))
		}
	}
}

// TestTimerHeapRemoveLast removes the last entry, the one case where
// removeAt swaps nothing.
func TestTimerHeapRemoveLast(t *testing.T) {
	a, b := &Timer{idx: -1}, &Timer{idx: -1}
	var h heap[timerEntry]
	h.push(timerEntry{when: 1, t: a})
	h.push(timerEntry{when: 2, t: b})
	if e := h.removeAt(1); e.t != b {
		t.Fatalf("removeAt(1) removed %p; want %p", e.t, b)
	}
	checkHeap(t, &h, func(e timerEntry) any { return e.t }, func(e timerEntry) int { return e.t.idx }, map[any]int64{a: 1}, 0)
	if b.idx != -1 {
		t.Fatalf("removed timer idx = %d; want -1", b.idx)
	}
}

// TestDeadlinesAndTimersInOrder checks that fireTimers runs what is due
// in both heaps in time order: a connection's deadline between two
// scheduled functions fires between them. (The connection has nothing
// expired when it fires, so checkConn only drops its entry.)
func TestDeadlinesAndTimersInOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := timerLoop()
		c := &Conn{loop: l, state: stateOpen}
		var fired []string
		l.Schedule(10*time.Millisecond, func() {
			fired = append(fired, "10ms")
			if c.tidx.get() < 0 {
				t.Error("the connection's 20ms entry fired before the 10ms timer")
			}
		})
		l.armConn(c, l.clock()+int64(20*time.Millisecond))
		l.Schedule(30*time.Millisecond, func() {
			fired = append(fired, "30ms")
			if c.tidx.get() >= 0 {
				t.Error("the connection's 20ms entry has not fired before the 30ms timer")
			}
		})
		if when, ok := l.nextTimer(); !ok || when != int64(10*time.Millisecond) {
			t.Fatalf("nextTimer() = %d, %v; want the 10ms timer's", when, ok)
		}
		time.Sleep(40 * time.Millisecond)
		l.now = l.clock()
		l.fireTimers()
		if want := []string{"10ms", "30ms"}; !slices.Equal(fired, want) {
			t.Fatalf("fired %q; want %q", fired, want)
		}
		if c.tidx.get() != -1 || l.deadlines.len() != 0 {
			t.Fatalf("connection entry left: tidx %d, %d entries", c.tidx.get(), l.deadlines.len())
		}
	})
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
		if n := l.timers.len(); n != 0 {
			t.Fatalf("%d entries left in the heap; want 0", n)
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
	c := &Conn{loop: l, state: stateOpen}
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
		if c.tidx.get() >= 0 {
			got = l.deadlines.item(c.tidx.get()).when
		}
		if got != s.want {
			t.Fatalf("step %d: armConn(%d): entry at %d; want %d", i, s.arm, got, s.want)
		}
		if n := l.deadlines.len(); n > 1 {
			t.Fatalf("step %d: %d entries for one connection", i, n)
		}
	}
	c.state = stateClosed
	l.removeConn(c)
	l.armConn(c, 10)
	if c.tidx.get() != -1 || l.deadlines.len() != 0 {
		t.Fatalf("a closed connection was armed: tidx %d, %d entries", c.tidx.get(), l.deadlines.len())
	}
}

// TestIdleTimerRearms checks the lazy idle timeout: when the entry fires
// after the connection was active, nothing is closed and the entry moves to
// the real deadline.
func TestIdleTimerRearms(t *testing.T) {
	const idle = int64(100 * time.Millisecond)
	l := timerLoop()
	l.cfg.IdleTimeout = time.Duration(idle)
	c := &Conn{loop: l, state: stateOpen}
	l.armConn(c, idle)

	c.lastActive = 60 * int64(time.Millisecond) // activity: the heap is not touched
	if got := l.deadlines.item(c.tidx.get()).when; got != idle {
		t.Fatalf("entry at %d after activity; want it left at %d", got, idle)
	}

	l.now = idle
	l.fireTimers()
	if c.state != stateOpen {
		t.Fatalf("state %d after an early wake-up; want open", c.state)
	}
	if c.tidx.get() < 0 {
		t.Fatal("not re-armed after an early wake-up")
	}
	if got, want := l.deadlines.item(c.tidx.get()).when, c.lastActive+idle; got != want {
		t.Fatalf("re-armed at %d; want lastActive+IdleTimeout = %d", got, want)
	}
}

// TestHeapIndex checks the 3-byte heap position Conn keeps: unarmed by
// default, and every position up to the heap's bound read back as set.
func TestHeapIndex(t *testing.T) {
	var x heapIndex
	if got := x.get(); got != -1 {
		t.Fatalf("zero heapIndex get() = %d, want -1 (unarmed)", got)
	}
	for _, i := range []int{0, 1, 255, 256, 65535, 65536, maxHeapLen - 1, -1} {
		x.set(i)
		if got := x.get(); got != i {
			t.Errorf("set(%d) then get() = %d", i, got)
		}
	}
}
