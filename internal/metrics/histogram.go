package metrics

import (
	"sync/atomic"
	"time"
)

const histBuckets = 25

// Histogram counts durations in power-of-two microsecond buckets; safe for
// concurrent Observe and Snapshot.
type Histogram struct {
	b [histBuckets]atomic.Uint64
}

// Observe counts d.
func (h *Histogram) Observe(d time.Duration) {
	us := uint64(max(d, 0) / time.Microsecond)
	i := 0
	for us > 0 && i < histBuckets-1 {
		us >>= 1
		i++
	}
	h.b[i].Add(1)
}

// Snapshot copies the counts. Counts observed while it runs may or may not
// be included.
func (h *Histogram) Snapshot() HistogramSnapshot {
	var s HistogramSnapshot
	for i := range h.b {
		s.Counts[i] = h.b[i].Load()
	}
	return s
}

// HistogramSnapshot holds bucket counts: Counts[0] counts durations under
// 1µs, Counts[i] those in [2^(i-1), 2^i) µs, the last everything longer.
type HistogramSnapshot struct {
	Counts [histBuckets]uint64
}

// Quantile returns the upper edge of the bucket holding the q-quantile.
func (s HistogramSnapshot) Quantile(q float64) time.Duration {
	total := s.Total()
	if total == 0 {
		return 0
	}
	want := max(uint64(q*float64(total)+0.5), 1)
	var seen uint64
	for i, c := range s.Counts {
		seen += c
		if seen >= want {
			return time.Duration(uint64(1)<<i) * time.Microsecond
		}
	}
	return time.Duration(uint64(1)<<(histBuckets-1)) * time.Microsecond
}

// Total returns the number of observations.
func (s HistogramSnapshot) Total() uint64 {
	var n uint64
	for _, c := range s.Counts {
		n += c
	}
	return n
}

// Add merges o into s.
func (s *HistogramSnapshot) Add(o HistogramSnapshot) {
	for i := range s.Counts {
		s.Counts[i] += o.Counts[i]
	}
}
