package engine

import (
	"unsafe"

	"github.com/pinion-net/pinion/internal/loop"
)

// A Metric describes one field of Counters or Gauges for code that treats
// them all alike, as WriteMetrics and the admin server's /debug/loops do.
// Rows that share a Name form one family, told apart by Label=LabelValue;
// a row with an empty Name is not exported on its own.
type Metric loop.Metric

// Gauge reports whether m is a gauge (else a counter).
func (m Metric) Gauge() bool { return loop.Metric(m).Gauge() }

// Value returns m's value in s.
func (m Metric) Value(s *LoopStats) int64 {
	// LoopStats and loop.Stats have one layout (TestLoopStatsLayout).
	return loop.Metric(m).Value((*loop.Stats)(unsafe.Pointer(s)))
}

// Metrics calls fn for every counter, then every gauge, of a loop, in a
// fixed order; fn gets copies.
func Metrics(fn func(m Metric)) {
	loop.Metrics(func(m loop.Metric) { fn(Metric(m)) })
}
