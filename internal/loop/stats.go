package loop

import (
	"sync/atomic"
	"time"

	"github.com/pinion-net/pinion/internal/metrics"
)

// counters are the loop's own tallies, plain fields written only by the
// loop goroutine and published once per tick.
type counters struct {
	opened, closed, accepted, dialed, rejected             uint64
	bytesIn, bytesOut, writeCalls                          uint64
	events, polls, tasks, stale, wakeups                   uint64
	acceptPauses, acceptErrors, readPauses, stalls         uint64
	handlerNanos, slowCallbacks, panics                    uint64
	outbound, outboundPeak                                 int64 // owed bytes over all connections
	offRejected, offLate, offPauses, offDropped, offPanics uint64
	offWaiting                                             int64 // connections waiting for offload room now
}

// owed adds n (negative: subtracts) to the outbound gauge.
func (s *counters) owed(n int) {
	s.outbound += int64(n)
	if s.outbound > s.outboundPeak {
		s.outboundPeak = s.outbound
	}
}

// published mirrors counters for other goroutines. Each field has one
// writer (the loop) and is stored atomically, so readers never see a torn
// value; a snapshot is per field, not across fields.
type published struct {
	id                                                     int
	conns                                                  atomic.Int64
	opened, closed, accepted, dialed, rejected             atomic.Uint64
	bytesIn, bytesOut, writeCalls                          atomic.Uint64
	events, polls, tasks, stale, wakeups                   atomic.Uint64
	acceptPauses, acceptErrors, readPauses, stalls         atomic.Uint64
	handlerNanos, slowCallbacks, panics                    atomic.Uint64
	outbound, outboundPeak                                 atomic.Int64
	offRejected, offLate, offPauses, offDropped, offPanics atomic.Uint64
	offWaiting                                             atomic.Int64
	tickHist                                               metrics.Histogram
}

func (p *published) init(id int) { p.id = id }

// publish copies the loop's counters for Stats; stores of unchanged values
// are skipped.
func (l *Loop) publish() {
	s, p := &l.st, &l.stats
	store := func(a *atomic.Uint64, v uint64) {
		if a.Load() != v {
			a.Store(v)
		}
	}
	if int64(l.nconns) != p.conns.Load() {
		p.conns.Store(int64(l.nconns))
	}
	store(&p.opened, s.opened)
	store(&p.closed, s.closed)
	store(&p.accepted, s.accepted)
	store(&p.dialed, s.dialed)
	store(&p.rejected, s.rejected)
	store(&p.bytesIn, s.bytesIn)
	store(&p.bytesOut, s.bytesOut)
	store(&p.writeCalls, s.writeCalls)
	store(&p.events, s.events)
	store(&p.polls, s.polls)
	store(&p.tasks, s.tasks)
	store(&p.stale, s.stale)
	store(&p.wakeups, s.wakeups)
	store(&p.acceptPauses, s.acceptPauses)
	store(&p.acceptErrors, s.acceptErrors)
	store(&p.readPauses, s.readPauses)
	store(&p.stalls, s.stalls)
	store(&p.handlerNanos, s.handlerNanos)
	store(&p.slowCallbacks, s.slowCallbacks)
	store(&p.panics, s.panics)
	if p.outbound.Load() != s.outbound {
		p.outbound.Store(s.outbound)
	}
	if p.outboundPeak.Load() != s.outboundPeak {
		p.outboundPeak.Store(s.outboundPeak)
	}
	store(&p.offRejected, s.offRejected)
	store(&p.offLate, s.offLate)
	store(&p.offPauses, s.offPauses)
	store(&p.offDropped, s.offDropped)
	store(&p.offPanics, s.offPanics)
	if p.offWaiting.Load() != s.offWaiting {
		p.offWaiting.Store(s.offWaiting)
	}
}

// Stats is a snapshot of one loop's counters.
type Stats struct {
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

// Stats returns a snapshot of the loop's counters, as of its last tick.
// Safe from any goroutine.
func (l *Loop) Stats() Stats {
	p := &l.stats
	return Stats{
		Loop:          p.id,
		Conns:         p.conns.Load(),
		Opened:        p.opened.Load(),
		Closed:        p.closed.Load(),
		Accepted:      p.accepted.Load(),
		Dialed:        p.dialed.Load(),
		Rejected:      p.rejected.Load(),
		BytesIn:       p.bytesIn.Load(),
		BytesOut:      p.bytesOut.Load(),
		WriteCalls:    p.writeCalls.Load(),
		Events:        p.events.Load(),
		Polls:         p.polls.Load(),
		Tasks:         p.tasks.Load(),
		Wakeups:       p.wakeups.Load(),
		StaleEvents:   p.stale.Load(),
		AcceptPauses:  p.acceptPauses.Load(),
		AcceptErrors:  p.acceptErrors.Load(),
		ReadPauses:    p.readPauses.Load(),
		Stalls:        p.stalls.Load(),
		HandlerTime:   time.Duration(p.handlerNanos.Load()),
		SlowCallbacks: p.slowCallbacks.Load(),
		Panics:        p.panics.Load(),
		Outbound:      p.outbound.Load(),
		OutboundPeak:  p.outboundPeak.Load(),

		OffloadRejected: p.offRejected.Load(),
		OffloadLate:     p.offLate.Load(),
		OffloadPauses:   p.offPauses.Load(),
		OffloadDropped:  p.offDropped.Load() + l.offSkipped.Load(),
		OffloadSkipped:  l.offSkipped.Load(),
		OffloadWaiting:  p.offWaiting.Load(),
		OffloadPanics:   p.offPanics.Load(),
		TickTime:        p.tickHist.Snapshot(),
	}
}

// HistogramSnapshot holds the counts of a histogram of durations in
// power-of-two microsecond buckets.
type HistogramSnapshot = metrics.HistogramSnapshot
