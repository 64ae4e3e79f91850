package metrics

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// Buckets is the number of buckets of a histogram.
const Buckets = 25

const histBuckets = Buckets

// Local.dirty has a bit per bucket.
var _ [32 - histBuckets]struct{}

// bucket returns the bucket of d: 0 under 1µs, i for [2^(i-1), 2^i) µs,
// the last one for everything longer.
func bucket(d time.Duration) int {
	us := uint64(max(d, 0) / time.Microsecond)
	return min(bits.Len64(us), histBuckets-1)
}

// Histogram counts durations in power-of-two microsecond buckets, and sums
// them; safe for concurrent Observe and Snapshot.
type Histogram struct {
	b   [histBuckets]atomic.Uint64
	sum atomic.Int64 // nanoseconds
	n   atomic.Uint64
}

// Observe counts d.
func (h *Histogram) Observe(d time.Duration) {
	h.b[bucket(d)].Add(1)
	h.sum.Add(int64(max(d, 0)))
}

// Snapshot copies the counts. Counts observed while it runs may or may not
// be included, and the sum may lag the counts by those observations.
func (h *Histogram) Snapshot() HistogramSnapshot {
	var s HistogramSnapshot
	for i := range h.b {
		s.Counts[i] = h.b[i].Load()
	}
	s.Sum = time.Duration(h.sum.Load())
	return s
}

// Publish stores what l counted that h does not hold yet. It is for a
// histogram with one writer, which counts in l with plain arithmetic and
// publishes now and then, so that readers of h never see a torn count and
// the writer pays no atomic read-modify-write per observation. Every
// observation of h must come through Publish.
func (h *Histogram) Publish(l *Local) {
	if h.n.Load() == l.n {
		return
	}
	// Only the buckets counted in since the last Publish: a loop
	// publishes every tick, and a tick counts in one or two.
	for d := l.dirty; d != 0; d &= d - 1 {
		i := bits.TrailingZeros32(d)
		h.b[i].Store(l.counts[i])
	}
	l.dirty = 0
	h.sum.Store(l.sum)
	h.n.Store(l.n)
}

// Local is a histogram kept by one goroutine in plain fields and made
// visible to others by Histogram.Publish.
type Local struct {
	counts [histBuckets]uint64
	sum    int64
	n      uint64
	dirty  uint32 // bit i: counts[i] changed since the last Publish
}

// Observe counts d.
func (l *Local) Observe(d time.Duration) {
	i := bucket(d)
	l.counts[i]++
	l.dirty |= 1 << i
	l.sum += int64(max(d, 0))
	l.n++
}

// HistogramSnapshot holds bucket counts: Counts[0] counts durations under
// 1µs, Counts[i] those in [2^(i-1), 2^i) µs, the last everything longer.
// Sum is the total of the durations counted.
type HistogramSnapshot struct {
	Counts [histBuckets]uint64
	Sum    time.Duration
}

// UpperBound returns the exclusive upper edge of bucket i, or 0 for the
// last bucket, which has none.
func (HistogramSnapshot) UpperBound(i int) time.Duration { return UpperBound(i) }

// UpperBound returns the exclusive upper edge of bucket i, or 0 for the
// last bucket, which has none.
func UpperBound(i int) time.Duration {
	if i >= histBuckets-1 {
		return 0
	}
	return time.Duration(uint64(1)<<i) * time.Microsecond
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
	s.Sum += o.Sum
}
