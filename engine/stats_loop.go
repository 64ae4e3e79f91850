package engine

import (
	"time"
	"unsafe"

	"github.com/pinion-net/pinion/internal/loop"
)

// Counters are a loop's tallies, which only grow; Stats and LoopStats
// embed them. Each field is documented where the loop keeps it, and each
// is exported once by WriteMetrics (docs/observability.md).
type Counters loop.Counters

// Add adds o's counters to c's.
func (c *Counters) Add(o *Counters) { (*loop.Counters)(c).Add((*loop.Counters)(o)) }

// Gauges are a loop's levels, which go up and down; Stats and LoopStats
// embed them.
type Gauges loop.Gauges

// Add adds o's gauges to g's.
func (g *Gauges) Add(o *Gauges) { (*loop.Gauges)(g).Add((*loop.Gauges)(o)) }

// LoopStats is a snapshot of one loop's counters, as of the end of its last
// tick (Stats.Loops).
type LoopStats struct {
	Loop int    // loop number
	IO   string // the loop's I/O backend: "epoll" or "uring"
	Counters
	Gauges
	HandlerTime  time.Duration     // time spent in timed callbacks (CallbackTime's sum)
	TickTime     HistogramSnapshot // busy ticks, poll excluded
	CallbackTime HistogramSnapshot // timed handler callbacks (open, data, tick)
}

// loopStats returns a loop's snapshot under the engine's name. LoopStats
// has loop.Stats's fields in the same order with the same types, except
// that Counters, Gauges and the histograms are the engine's names of the
// loop's own structs, so the memory layouts are identical; Go refuses the
// plain conversion only because of those names. TestLoopStatsLayout checks
// the fields one by one, so a field added on one side only fails it.
func loopStats(s loop.Stats) LoopStats {
	return *(*LoopStats)(unsafe.Pointer(&s))
}
