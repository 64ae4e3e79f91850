package engine

import (
	"time"

	"github.com/pinion-net/pinion/loop"
)

// Stats is a snapshot of an engine: totals over its loops, and each loop's
// own figures.
type Stats struct {
	Conns         int64         // open now
	Accepted      uint64        // accepted (rejected ones included)
	Rejected      uint64        // closed at once over MaxConns
	Closed        uint64        // closed
	BytesIn       uint64        // read
	BytesOut      uint64        // written
	AcceptPauses  uint64        // listener pauses after EMFILE/ENFILE
	SlowCallbacks uint64        // callbacks over Config.SlowCallback
	Panics        uint64        // recovered handler panics
	Outbound      int64         // owed bytes queued now
	OutboundPeak  int64         // sum of each loop's peak of owed bytes
	HandlerTime   time.Duration // time in callbacks
	TickTime      loop.HistogramSnapshot
	Loops         []loop.Stats
}

// Stats returns a snapshot of the engine's counters. It reads what each
// loop published at the end of its last tick, without stopping any loop.
func (e *Engine) Stats() Stats {
	var s Stats
	for _, l := range e.loops {
		ls := l.Stats()
		s.Loops = append(s.Loops, ls)
		s.Conns += ls.Conns
		s.Accepted += ls.Accepted
		s.Rejected += ls.Rejected
		s.Closed += ls.Closed
		s.BytesIn += ls.BytesIn
		s.BytesOut += ls.BytesOut
		s.AcceptPauses += ls.AcceptPauses
		s.SlowCallbacks += ls.SlowCallbacks
		s.Panics += ls.Panics
		s.Outbound += ls.Outbound
		s.OutboundPeak += ls.OutboundPeak
		s.HandlerTime += ls.HandlerTime
		s.TickTime.Add(ls.TickTime)
	}
	return s
}
