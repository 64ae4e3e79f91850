package engine

import (
	"time"

	"github.com/pinion-net/pinion/internal/metrics"
)

// HistogramSnapshot holds the counts of a histogram of durations in
// power-of-two microsecond buckets: Counts[0] counts durations under 1µs,
// Counts[i] those in [2^(i-1), 2^i) µs, the last everything longer; Sum
// is the total of the durations observed.
type HistogramSnapshot struct {
	Counts [25]uint64    // the histograms' bucket count: m does not compile otherwise
	Sum    time.Duration // the sum of the observed durations
}

// m returns s under the name the histograms use (the same struct).
func (s HistogramSnapshot) m() metrics.HistogramSnapshot { return metrics.HistogramSnapshot(s) }

// Quantile returns the upper edge of the bucket holding the q-quantile
// (0 <= q <= 1), or 0 for an empty histogram.
func (s HistogramSnapshot) Quantile(q float64) time.Duration { return s.m().Quantile(q) }

// Total returns the number of observations.
func (s HistogramSnapshot) Total() uint64 { return s.m().Total() }

// Add merges o into s.
func (s *HistogramSnapshot) Add(o HistogramSnapshot) {
	m := s.m()
	m.Add(o.m())
	*s = HistogramSnapshot(m)
}
