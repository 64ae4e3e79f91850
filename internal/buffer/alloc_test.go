package buffer

import "testing"

// The steady-state paths of a busy connection must not allocate once the
// pool has free chunks and the caller's slices have room.
func TestZeroAllocs(t *testing.T) {
	p := NewPool(64, 8)
	var warm Chain
	warm.Write(p, make([]byte, 8*64))
	warm.Reset(p, nil)
	msg := make([]byte, 100)
	iov := make([][]byte, 0, 8)
	dst := make([]func(error), 0, 8)
	done := func(error) {}

	var c, full Chain
	full.Write(p, make([]byte, 5*64))
	tests := []struct {
		name string
		fn   func()
	}{
		{"Write+Discard", func() {
			c.Write(p, msg)
			c.Discard(p, c.Len())
		}},
		{"Write+Segments+Discard", func() {
			c.Write(p, msg)
			iov = c.Segments(iov[:0], cap(iov), 0)
			c.Discard(p, len(iov[0]))
			c.Discard(p, c.Len())
		}},
		{"Segments", func() {
			iov = full.Segments(iov[:0], cap(iov), 0)
		}},
		{"TakeDue with nothing recorded", func() {
			dst = c.TakeDue(dst[:0])
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := testing.AllocsPerRun(100, tt.fn); got != 0 {
				t.Errorf("allocations per run = %v, want 0", got)
			}
		})
	}

	// TakeDue with callbacks due: record more callbacks than runs up front,
	// then release one per run.
	t.Run("Discard+TakeDue", func(t *testing.T) {
		var c Chain
		for range 200 {
			c.Write(p, []byte{0})
			c.OnFlushed(done)
		}
		got := testing.AllocsPerRun(100, func() {
			c.Discard(p, 1)
			dst = c.TakeDue(dst[:0])
			if len(dst) != 1 {
				t.Fatalf("TakeDue returned %d callbacks, want 1", len(dst))
			}
		})
		if got != 0 {
			t.Errorf("allocations per run = %v, want 0", got)
		}
	})
}
