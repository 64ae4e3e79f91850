package engine

import "time"

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
	ProxyAccepted uint64        // connections whose PROXY header was accepted
	ProxyRejected uint64        // connections closed for their PROXY header (untrusted, malformed, late, missing)
	TickTime      HistogramSnapshot
	Offload       OffloadStats
	Loops         []LoopStats
}

// OffloadStats describes the offload pool and the loops' use of it.
type OffloadStats struct {
	Workers       int               // pool size
	Busy          int64             // workers running a task now
	Queue         int               // queue bound
	Depth         int               // tasks waiting now
	HighWater     int64             // most tasks waiting at once
	Submitted     uint64            // tasks accepted by the pool
	Completed     uint64            // tasks finished
	Full          uint64            // submissions refused because the queue was full
	Rejected      uint64            // Offload calls answered ErrOffloadFull (OffloadReject)
	Paused        uint64            // times a connection stopped being read to wait for the pool
	Waiting       int64             // connections waiting for pool room now
	Panics        uint64            // tasks that panicked
	LateReplies   uint64            // replies dropped because their connection was gone
	DroppedQueued uint64            // queued tasks never run because their connection closed
	Stuck         int64             // running tasks Shutdown stopped waiting for: they ignored their cancelled context
	QueueWait     HistogramSnapshot // submit to start
	RunTime       HistogramSnapshot // start to end
}

// Stats returns a snapshot of the engine's counters. It reads what each
// loop published at the end of its last tick, without stopping any loop.
func (e *Engine) Stats() Stats {
	var s Stats
	for _, l := range e.loops {
		ls := loopStats(l.Stats())
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
		o := &s.Offload
		o.Rejected += ls.OffloadRejected
		o.Paused += ls.OffloadPauses
		o.Waiting += ls.OffloadWaiting
		o.LateReplies += ls.OffloadLate
		o.DroppedQueued += ls.OffloadDropped
		o.Panics += ls.OffloadPanics
	}
	if e.proxy != nil {
		s.ProxyAccepted, s.ProxyRejected = e.proxy.accepted.Load(), e.proxy.rejected.Load()
	}
	if e.pool != nil {
		ps := e.pool.Stats()
		o := &s.Offload
		o.Workers, o.Busy, o.Queue, o.Depth, o.HighWater = ps.Workers, ps.Busy, ps.Queue, ps.Depth, ps.HighWater
		o.Submitted, o.Completed, o.Full = ps.Submitted, ps.Completed, ps.Rejected
		o.Panics += ps.Panics
		o.QueueWait, o.RunTime = HistogramSnapshot(ps.QueueWait), HistogramSnapshot(ps.RunTime)
	}
	s.Offload.Stuck = e.stuck.Load()
	return s
}
