package engine

import (
	"time"
	"unsafe"

	"github.com/pinion-net/pinion/internal/loop"
)

// LoopStats is a snapshot of one loop's counters, as of the end of its last
// tick (Stats.Loops).
type LoopStats struct {
	Loop          int           // loop number
	Conns         int64         // connections owned now (closing and lingering included)
	Opened        uint64        // connections registered: accepted and dialed
	Closed        uint64        // connections closed
	Accepted      uint64        // connections accepted from listeners (rejected ones included)
	Dialed        uint64        // outbound connections started
	Rejected      uint64        // accepted and closed at once because of MaxConns
	BytesIn       uint64        // bytes read
	BytesOut      uint64        // bytes written
	WriteCalls    uint64        // write system calls (write, sendto, writev, sendmsg) made
	Events        uint64        // poller events handled
	Polls         uint64        // blocking polls (the loop went idle)
	Tasks         uint64        // posted tasks run
	Wakeups       uint64        // ticks that found posted tasks (cross-goroutine wakeups)
	StaleEvents   uint64        // events for connections already gone
	AcceptPauses  uint64        // listener pauses after EMFILE/ENFILE
	AcceptErrors  uint64        // other accept failures
	ReadPauses    uint64        // times a connection passed the high watermark
	Stalls        uint64        // times OnData left input because its connection was Saturated
	HandlerTime   time.Duration // time spent in callbacks
	SlowCallbacks uint64        // callbacks slower than Config.SlowCallback
	Panics        uint64        // recovered callback panics
	Outbound      int64         // owed bytes queued over all connections now
	OutboundPeak  int64         // the most owed bytes queued at once since the loop started

	OffloadRejected uint64 // Offload calls answered ErrOffloadFull (OffloadReject)
	OffloadLate     uint64 // replies dropped: their connection was gone
	OffloadPauses   uint64 // times a connection stopped being read to wait for the pool
	OffloadDropped  uint64 // queued tasks (on the loop or in the pool) never run: their connection closed
	OffloadSkipped  uint64 // of OffloadDropped, those that were in the pool's queue (the pool counts them completed)
	OffloadWaiting  int64  // connections waiting for pool room now
	OffloadPanics   uint64 // offloaded tasks that panicked (also counted in Panics)
	TickTime        HistogramSnapshot
}

// loopStats returns a loop's snapshot under the engine's name. LoopStats
// has loop.Stats's fields in the same order with the same types, except
// that TickTime's type is the engine's name of the histograms' own
// one-array struct, so the memory layouts are identical; Go refuses the
// plain conversion only because of that name. TestLoopStatsLayout checks
// the fields one by one, so a counter added on one side only fails it.
func loopStats(s loop.Stats) LoopStats {
	return *(*LoopStats)(unsafe.Pointer(&s))
}
