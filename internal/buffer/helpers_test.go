package buffer

import (
	"bytes"
	"math"
	"testing"
)

// contents returns a copy of every byte queued in c, read through Segments.
func contents(c *Chain) []byte {
	var out []byte
	for _, seg := range c.Segments(nil, math.MaxInt, 0) {
		out = append(out, seg...)
	}
	return out
}

// chunks returns the number of chunks c holds now.
func chunks(c *Chain) int {
	n := 0
	for ch := c.head; ch != nil; ch = ch.next {
		n++
	}
	return n
}

// checkChain fails t unless c holds exactly want and its structural
// invariants hold.
func checkChain(t *testing.T, c *Chain, want []byte) {
	t.Helper()
	if got := c.Len(); got != len(want) {
		t.Fatalf("Len() = %d, want %d", got, len(want))
	}
	if got := contents(c); !bytes.Equal(got, want) {
		t.Fatalf("contents = %q, want %q", got, want)
	}
	if (c.head == nil) != (c.Len() == 0) || (c.tail == nil) != (c.head == nil) {
		t.Fatalf("head nil = %v, tail nil = %v with Len() = %d; want both nil iff Len() == 0",
			c.head == nil, c.tail == nil, c.Len())
	}
	for ch := c.head; ch != nil; ch = ch.next {
		if ch.r >= ch.w {
			t.Fatalf("chunk with r = %d, w = %d in chain; want r < w", ch.r, ch.w)
		}
		if ch.next != nil && ch.w != len(ch.buf) {
			t.Fatalf("non-tail chunk with w = %d of %d; want it full", ch.w, len(ch.buf))
		}
		if ch.next == nil && ch != c.tail {
			t.Fatalf("last chunk of the list is not tail")
		}
	}
}

// pattern returns n bytes that continue a sequence starting at position
// from, so that misordered or duplicated bytes show in comparisons.
func pattern(from uint64, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte((from + uint64(i)) % 251)
	}
	return b
}

// recorder builds callbacks that log their id and the error they got.
type recorder struct {
	ids  []int
	errs []error
}

func (r *recorder) cb(id int) func(error) {
	return func(err error) {
		r.ids = append(r.ids, id)
		r.errs = append(r.errs, err)
	}
}

// run calls every callback in fns with err and returns the ids logged by
// those calls.
func (r *recorder) run(fns []func(error), err error) []int {
	r.ids = r.ids[:0]
	for _, f := range fns {
		f(err)
	}
	return append([]int(nil), r.ids...)
}
