package engine

import "time"

// Stats is a snapshot of an engine: totals over its loops (Counters and
// Gauges summed; OutboundPeak is the sum of each loop's peak), and each
// loop's own figures.
type Stats struct {
	Counters
	Gauges
	Draining      bool          // Drain was called: nothing new is accepted
	HandlerTime   time.Duration // time in timed callbacks
	ProxyAccepted uint64        // connections whose PROXY header was accepted
	ProxyRejected uint64        // connections closed for their PROXY header (untrusted, malformed, late, missing)
	TickTime      HistogramSnapshot
	CallbackTime  HistogramSnapshot
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

// Stats returns a snapshot of the engine's counters: each loop's exact
// figures if it waits for events (it is woken to publish them), else what
// it published last, at most Config.StatsInterval and one tick ago. It
// never waits for a loop that is working.
func (e *Engine) Stats() Stats {
	var s Stats
	for _, l := range e.loops {
		ls := loopStats(l.Stats())
		s.Loops = append(s.Loops, ls)
		s.Counters.Add(&ls.Counters)
		s.Gauges.Add(&ls.Gauges)
		s.HandlerTime += ls.HandlerTime
		s.TickTime.Add(ls.TickTime)
		s.CallbackTime.Add(ls.CallbackTime)
	}
	if e.proxy != nil {
		s.ProxyAccepted, s.ProxyRejected = e.proxy.accepted.Load(), e.proxy.rejected.Load()
	}
	o := &s.Offload
	o.Rejected, o.Paused, o.Waiting = s.OffloadRejected, s.OffloadPauses, s.OffloadWaiting
	o.LateReplies, o.DroppedQueued, o.Panics = s.OffloadLate, s.OffloadDropped, s.OffloadPanics
	if e.pool != nil {
		ps := e.pool.Stats()
		o.Workers, o.Busy, o.Queue, o.Depth, o.HighWater = ps.Workers, ps.Busy, ps.Queue, ps.Depth, ps.HighWater
		o.Submitted, o.Completed, o.Full = ps.Submitted, ps.Completed, ps.Rejected
		o.Panics += ps.Panics
		o.QueueWait, o.RunTime = HistogramSnapshot(ps.QueueWait), HistogramSnapshot(ps.RunTime)
	}
	s.Offload.Stuck = e.stuck.Load()
	s.Draining = e.Draining()
	return s
}
