package metrics

import (
	"sync"
	"testing"
	"time"
)

func TestHistogramBuckets(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want int
	}{
		{0, 0},
		{999 * time.Nanosecond, 0},
		{time.Microsecond, 1},
		{3 * time.Microsecond, 2},
		{4 * time.Microsecond, 3},
		{time.Millisecond, 10},
		{time.Hour, histBuckets - 1},
		{-time.Second, 0},
	}
	for _, tt := range tests {
		var h Histogram
		h.Observe(tt.d)
		s := h.Snapshot()
		if s.Counts[tt.want] != 1 || s.Total() != 1 {
			t.Errorf("Observe(%v): counts %v, want one in bucket %d", tt.d, s.Counts, tt.want)
		}
	}
}

func TestHistogramQuantile(t *testing.T) {
	var h Histogram
	for range 90 {
		h.Observe(5 * time.Microsecond) // bucket [4,8) µs
	}
	for range 10 {
		h.Observe(5 * time.Millisecond) // bucket [4096,8192) µs
	}
	s := h.Snapshot()
	if got, want := s.Quantile(0.5), 8*time.Microsecond; got != want {
		t.Errorf("p50 = %v, want %v", got, want)
	}
	if got, want := s.Quantile(0.99), 8192*time.Microsecond; got != want {
		t.Errorf("p99 = %v, want %v", got, want)
	}
	var empty HistogramSnapshot
	if got := empty.Quantile(0.5); got != 0 {
		t.Errorf("empty p50 = %v, want 0", got)
	}
	var sum HistogramSnapshot
	sum.Add(s)
	sum.Add(s)
	if sum.Total() != 200 {
		t.Errorf("merged total = %d, want 200", sum.Total())
	}
}

func TestHistogramConcurrent(t *testing.T) {
	var h Histogram
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				h.Observe(time.Microsecond)
			}
		})
	}
	wg.Wait()
	if got := h.Snapshot().Total(); got != 8000 {
		t.Errorf("total = %d, want 8000", got)
	}
}

func BenchmarkObserve(b *testing.B) {
	var h Histogram
	b.ReportAllocs()
	for b.Loop() {
		h.Observe(3 * time.Microsecond)
	}
}
