package buffer

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// step is one action of a callback scenario.
type step struct {
	op   string // "write", "discard", "on", "take" or "reset"
	n    int    // bytes for write and discard, id for on
	want []int  // ids expected to come back from take and reset
}

func TestCallbacks(t *testing.T) {
	tests := []struct {
		name  string
		steps []step
	}{
		{"on empty chain is due at once", []step{
			{op: "on", n: 1},
			{op: "take", want: []int{1}},
			{op: "take"},
		}},
		{"due only when its bytes are gone", []step{
			{op: "write", n: 5},
			{op: "on", n: 1},
			{op: "take"},
			{op: "discard", n: 4},
			{op: "take"},
			{op: "discard", n: 1},
			{op: "take", want: []int{1}},
		}},
		{"later bytes do not delay it", []step{
			{op: "write", n: 3},
			{op: "on", n: 1},
			{op: "write", n: 10},
			{op: "discard", n: 3},
			{op: "take", want: []int{1}},
		}},
		{"several at the same position", []step{
			{op: "write", n: 2},
			{op: "on", n: 1},
			{op: "on", n: 2},
			{op: "on", n: 3},
			{op: "discard", n: 2},
			{op: "take", want: []int{1, 2, 3}},
		}},
		{"in order across positions", []step{
			{op: "write", n: 2},
			{op: "on", n: 1},
			{op: "write", n: 2},
			{op: "on", n: 2},
			{op: "write", n: 2},
			{op: "on", n: 3},
			{op: "discard", n: 3},
			{op: "take", want: []int{1}},
			{op: "discard", n: 3},
			{op: "take", want: []int{2, 3}},
		}},
		{"one discard releases many", []step{
			{op: "write", n: 1},
			{op: "on", n: 1},
			{op: "write", n: 1},
			{op: "on", n: 2},
			{op: "discard", n: 2},
			{op: "take", want: []int{1, 2}},
		}},
		{"empty chain after earlier flush", []step{
			{op: "write", n: 4},
			{op: "discard", n: 4},
			{op: "on", n: 1},
			{op: "take", want: []int{1}},
		}},
		{"reset returns due and pending in order", []step{
			{op: "on", n: 1},
			{op: "write", n: 4},
			{op: "on", n: 2},
			{op: "write", n: 4},
			{op: "on", n: 3},
			{op: "reset", want: []int{1, 2, 3}},
			{op: "take"},
		}},
		{"chain usable after reset", []step{
			{op: "write", n: 4},
			{op: "on", n: 1},
			{op: "reset", want: []int{1}},
			{op: "write", n: 2},
			{op: "on", n: 2},
			{op: "take"},
			{op: "discard", n: 2},
			{op: "take", want: []int{2}},
		}},
		{"many callbacks outgrow inline storage", []step{
			{op: "write", n: 1}, {op: "on", n: 1},
			{op: "write", n: 1}, {op: "on", n: 2},
			{op: "write", n: 1}, {op: "on", n: 3},
			{op: "write", n: 1}, {op: "on", n: 4},
			{op: "write", n: 1}, {op: "on", n: 5},
			{op: "discard", n: 2},
			{op: "take", want: []int{1, 2}},
			{op: "on", n: 6},
			{op: "discard", n: 3},
			{op: "take", want: []int{3, 4, 5, 6}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewPool(3, 4)
			var c Chain
			var rec recorder
			pending := 0
			for i, s := range tt.steps {
				var got []int
				switch s.op {
				case "write":
					c.Write(p, make([]byte, s.n))
				case "discard":
					c.Discard(p, s.n)
				case "on":
					c.OnFlushed(rec.cb(s.n))
					pending++
				case "take":
					got = rec.run(c.TakeDue(nil), nil)
				case "reset":
					got = rec.run(c.Reset(p, nil), nil)
				default:
					t.Fatalf("step %d: unknown op %q", i, s.op)
				}
				pending -= len(got)
				if !slices.Equal(got, s.want) && (len(got) != 0 || len(s.want) != 0) {
					t.Fatalf("step %d (%s): callbacks = %v, want %v", i, s.op, got, s.want)
				}
				if got, want := c.Pending(), pending > 0; got != want {
					t.Fatalf("step %d (%s): Pending() = %v, want %v", i, s.op, got, want)
				}
				if pending == 0 && c.cbs != nil {
					t.Fatalf("step %d (%s): callback storage kept with nothing pending", i, s.op)
				}
			}
		})
	}
}

func TestTakeDueAppendsToDst(t *testing.T) {
	var c Chain
	var rec recorder
	c.OnFlushed(rec.cb(2))
	dst := []func(error){rec.cb(1)}
	dst = c.TakeDue(dst)
	if got, want := rec.run(dst, nil), []int{1, 2}; !slices.Equal(got, want) {
		t.Errorf("TakeDue(dst) ran %v, want %v", got, want)
	}
}

func TestResetCallbacksGetCallerError(t *testing.T) {
	p := NewPool(4, 4)
	var c Chain
	var rec recorder
	c.Write(p, []byte("abc"))
	c.OnFlushed(rec.cb(1))
	errClosed := errors.New("closed")
	rec.run(c.Reset(p, nil), errClosed)
	if len(rec.errs) != 1 || !errors.Is(rec.errs[0], errClosed) {
		t.Errorf("callback errors = %v, want [%v]", rec.errs, errClosed)
	}
}

func TestOnFlushedNilPanics(t *testing.T) {
	var c Chain
	defer func() {
		msg, _ := recover().(string)
		if want := "done must not be nil"; !strings.Contains(msg, want) {
			t.Errorf("OnFlushed(nil) panicked with %q, want it to contain %q", msg, want)
		}
		if c.Pending() {
			t.Errorf("Pending() = true after a refused OnFlushed, want false")
		}
	}()
	c.OnFlushed(nil)
}
