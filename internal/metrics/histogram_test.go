package metrics

import (
	"math/rand/v2"
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

func TestHistogramSum(t *testing.T) {
	var h Histogram
	h.Observe(3 * time.Microsecond)
	h.Observe(2 * time.Millisecond)
	h.Observe(-time.Second) // counted in the first bucket, adds nothing
	s := h.Snapshot()
	if want := 2003 * time.Microsecond; s.Sum != want || s.Total() != 3 {
		t.Errorf("sum %v total %d, want %v and 3", s.Sum, s.Total(), want)
	}
}

func TestLocalPublish(t *testing.T) {
	var l Local
	var h Histogram
	h.Publish(&l)
	if s := h.Snapshot(); s.Total() != 0 || s.Sum != 0 {
		t.Fatalf("empty publish: %+v", s)
	}
	for _, d := range []time.Duration{0, 5 * time.Microsecond, 5 * time.Microsecond, time.Hour} {
		l.Observe(d)
	}
	h.Publish(&l)
	s := h.Snapshot()
	want := [4]uint64{1, 0, 0, 2} // buckets 0..3: 5µs lands in [4,8)
	for i, w := range want {
		if s.Counts[i] != w {
			t.Errorf("bucket %d: got %d, want %d", i, s.Counts[i], w)
		}
	}
	if s.Counts[histBuckets-1] != 1 || s.Total() != 4 || s.Sum != time.Hour+10*time.Microsecond {
		t.Errorf("last bucket %d, total %d, sum %v; want 1, 4, 1h0m0.00001s", s.Counts[histBuckets-1], s.Total(), s.Sum)
	}
}

func TestUpperBound(t *testing.T) {
	for i := range histBuckets - 1 {
		var h Histogram
		h.Observe(UpperBound(i) - time.Nanosecond)
		h.Observe(UpperBound(i))
		s := h.Snapshot()
		if s.Counts[i] != 1 || s.Counts[i+1] != 1 {
			t.Errorf("bucket %d: just under %v counted in %v", i, UpperBound(i), s.Counts)
		}
	}
	if UpperBound(histBuckets-1) != 0 {
		t.Errorf("last bucket has an upper bound %v", UpperBound(histBuckets-1))
	}
}

func TestLocalObserveAllocs(t *testing.T) {
	var l Local
	var h Histogram
	if n := testing.AllocsPerRun(100, func() { l.Observe(time.Millisecond); h.Publish(&l) }); n != 0 {
		t.Errorf("Observe and Publish allocate %v times", n)
	}
}

// TestLocalPublishRounds checks that Publish, which stores only the
// buckets counted in since the last Publish, leaves the histogram equal to
// what was observed after every round of a random sequence.
func TestLocalPublishRounds(t *testing.T) {
	var l Local
	var h Histogram
	var want [histBuckets]uint64
	rng := rand.New(rand.NewPCG(5, 6))
	for round := range 200 {
		for range rng.IntN(4) {
			d := time.Duration(rng.Int64N(int64(time.Minute))) >> rng.IntN(40)
			l.Observe(d)
			want[bucket(d)]++
		}
		h.Publish(&l)
		if s := h.Snapshot(); s.Counts != want {
			t.Fatalf("round %d: published %v, want %v", round, s.Counts, want)
		}
	}
}
