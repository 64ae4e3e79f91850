package loop

import (
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/pinion-net/pinion/internal/metrics"
)

// Counters are a loop's tallies, which only grow. The loop keeps them in
// plain fields written only by its goroutine and publishes them every
// Config.StatsInterval while busy, and when Stats asks while it waits
// (docs/adr/0002-per-loop-stats-publication.md,
// docs/adr/0019-stats-publication-interval.md). Publishing, Stats and
// sums handle the fields as one array; counterTable names each once for the
// engine's Prometheus exposition. Every field must be a uint64 (or an
// array of them): adding a counter is a field here and a row there, and
// TestCounterTable fails when the row is missing.
type Counters struct {
	Opened        uint64 // connections registered: accepted and dialed
	Closed        uint64 // connections closed, for every reason (the sum of ClosedBy)
	Accepted      uint64 // connections accepted from listeners (rejected ones included)
	Dialed        uint64 // outbound connections started
	Rejected      uint64 // accepted and closed at once because of MaxConns
	BytesIn       uint64 // bytes read
	BytesOut      uint64 // bytes written
	WriteCalls    uint64 // write system calls (write, sendto, writev, sendmsg) made
	Events        uint64 // poller events handled
	Polls         uint64 // polls that blocked (the loop went idle; see parkedAfter)
	Tasks         uint64 // posted tasks run
	Wakeups       uint64 // ticks that found posted tasks (cross-goroutine wakeups)
	StaleEvents   uint64 // events for connections already gone
	AcceptPauses  uint64 // listener pauses after EMFILE/ENFILE
	AcceptErrors  uint64 // other accept failures
	ReadPauses    uint64 // times a connection passed the high watermark
	Stalls        uint64 // times OnData left input because its connection was Saturated
	SlowCallbacks uint64 // callbacks slower than Config.SlowCallback
	Panics        uint64 // recovered callback panics (offloaded tasks' included)
	NoBuffers     uint64 // io_uring: receives ended because the provided buffers ran out (armed again)

	OffloadRejected uint64 // Offload calls answered ErrOffloadFull (OffloadReject)
	OffloadLate     uint64 // replies dropped: their connection was gone
	OffloadPauses   uint64 // times a connection stopped being read to wait for the pool
	OffloadDropped  uint64 // queued tasks (on the loop or in the pool) never run: their connection closed
	OffloadSkipped  uint64 // of OffloadDropped, those that were in the pool's queue (the pool counts them completed)
	OffloadPanics   uint64 // offloaded tasks that panicked (also counted in Panics)

	// ClosedBy counts closed connections by the reason they closed.
	ClosedBy [NumCloseReasons]uint64
}

// Gauges are a loop's levels, which go up and down; kept and published
// like Counters and listed once in gaugeTable.
type Gauges struct {
	Conns          int64 // connections owned now (closing and lingering included)
	Outbound       int64 // owed bytes queued over all connections now
	OutboundPeak   int64 // the most owed bytes queued at once since the loop started
	ReadPaused     int64 // connections not read now because their owed bytes passed WriteHigh
	OffloadPaused  int64 // connections not read now because of their offloaded tasks
	OffloadWaiting int64 // connections waiting for pool room now
}

// A Metric describes one field of Counters or Gauges for code that treats
// them all alike. Rows that share a Name form one family, told apart by
// Label=LabelValue.
type Metric struct {
	Name       string // snake_case, without prefix; "" for a field not exported on its own
	Help       string // one sentence
	Label      string // a label of this family beyond the loop's, or ""
	LabelValue string // its value in this row
	gauge      bool
	off        uintptr // the field's offset in Counters or Gauges
}

// Gauge reports whether m is a gauge (else a counter).
func (m Metric) Gauge() bool { return m.gauge }

// Value returns m's value in s.
func (m Metric) Value(s *Stats) int64 {
	if m.gauge {
		return s.Gauges.slots()[m.off/8]
	}
	return int64(s.Counters.slots()[m.off/8])
}

// Metrics calls fn for every counter, then every gauge, in a fixed order;
// fn gets copies, so the tables stay as written.
func Metrics(fn func(m Metric)) {
	for _, m := range counterTable {
		fn(m)
	}
	for _, m := range gaugeTable {
		fn(m)
	}
}

// counterTable lists every field of Counters once. It is never written.
var counterTable = [...]Metric{
	{Name: "connections_opened", Help: "Connections registered: accepted and dialed.", off: unsafe.Offsetof(Counters{}.Opened)},
	{Name: "", Help: "Connections closed; exported as connections_closed by reason.", off: unsafe.Offsetof(Counters{}.Closed)},
	{Name: "connections_accepted", Help: "Connections accepted from listeners, rejected ones included.", off: unsafe.Offsetof(Counters{}.Accepted)},
	{Name: "connections_dialed", Help: "Outbound connections started.", off: unsafe.Offsetof(Counters{}.Dialed)},
	{Name: "connections_rejected", Help: "Connections accepted and closed at once because MaxConns were open.", off: unsafe.Offsetof(Counters{}.Rejected)},
	{Name: "received_bytes", Help: "Bytes read from connections.", off: unsafe.Offsetof(Counters{}.BytesIn)},
	{Name: "sent_bytes", Help: "Bytes written to connections.", off: unsafe.Offsetof(Counters{}.BytesOut)},
	{Name: "write_calls", Help: "Write system calls (write, sendto, writev, sendmsg) made.", off: unsafe.Offsetof(Counters{}.WriteCalls)},
	{Name: "poll_events", Help: "Poller events handled.", off: unsafe.Offsetof(Counters{}.Events)},
	{Name: "polls_blocked", Help: "Polls that blocked because the loop had nothing to do.", off: unsafe.Offsetof(Counters{}.Polls)},
	{Name: "tasks", Help: "Posted tasks run.", off: unsafe.Offsetof(Counters{}.Tasks)},
	{Name: "wakeups", Help: "Ticks that found posted tasks (wakeups from other goroutines).", off: unsafe.Offsetof(Counters{}.Wakeups)},
	{Name: "stale_events", Help: "Poller events for connections already gone.", off: unsafe.Offsetof(Counters{}.StaleEvents)},
	{Name: "accept_pauses", Help: "Listener pauses after EMFILE or ENFILE.", off: unsafe.Offsetof(Counters{}.AcceptPauses)},
	{Name: "accept_errors", Help: "Accept failures other than running out of file descriptors.", off: unsafe.Offsetof(Counters{}.AcceptErrors)},
	{Name: "read_pauses", Help: "Times a connection stopped being read because its owed bytes passed the high watermark.", off: unsafe.Offsetof(Counters{}.ReadPauses)},
	{Name: "stalls", Help: "Times OnData left input unread because its connection was saturated.", off: unsafe.Offsetof(Counters{}.Stalls)},
	{Name: "slow_callbacks", Help: "Handler callbacks slower than the slow-callback threshold.", off: unsafe.Offsetof(Counters{}.SlowCallbacks)},
	{Name: "panics", Help: "Recovered panics of handler callbacks and offloaded tasks.", off: unsafe.Offsetof(Counters{}.Panics)},
	{Name: "receive_no_buffers", Help: "io_uring receives ended because the loop's provided buffers ran out (armed again).", off: unsafe.Offsetof(Counters{}.NoBuffers)},
	{Name: "offload_rejected", Help: "Offload calls refused because the pool was full (reject policy).", off: unsafe.Offsetof(Counters{}.OffloadRejected)},
	{Name: "offload_late", Help: "Offloaded replies dropped because their connection was gone.", off: unsafe.Offsetof(Counters{}.OffloadLate)},
	{Name: "offload_paused", Help: "Times a connection stopped being read to wait for the offload pool.", off: unsafe.Offsetof(Counters{}.OffloadPauses)},
	{Name: "offload_dropped", Help: "Queued offload tasks never run because their connection closed.", off: unsafe.Offsetof(Counters{}.OffloadDropped)},
	{Name: "offload_skipped", Help: "Of the dropped offload tasks, those that were still in the pool's queue.", off: unsafe.Offsetof(Counters{}.OffloadSkipped)},
	{Name: "offload_panics", Help: "Offloaded tasks that panicked.", off: unsafe.Offsetof(Counters{}.OffloadPanics)},
	closedBy(CloseLocal), closedBy(ClosePeer), closedBy(CloseIdle), closedBy(CloseReadTimeout),
	closedBy(CloseWriteTimeout), closedBy(CloseDialTimeout), closedBy(CloseInboundOverflow),
	closedBy(CloseOutboundOverflow), closedBy(CloseReset), closedBy(ClosePanic),
	closedBy(CloseShutdown), closedBy(CloseHandler), closedBy(CloseError),
}

func closedBy(r CloseReason) Metric {
	return Metric{
		Name: "connections_closed", Help: "Connections closed, by reason.",
		Label: "reason", LabelValue: r.String(),
		off: unsafe.Offsetof(Counters{}.ClosedBy) + uintptr(r)*8,
	}
}

// gaugeTable lists every field of Gauges once. It is never written.
var gaugeTable = [...]Metric{
	{Name: "connections", Help: "Connections open now, closing and lingering ones included.", gauge: true, off: unsafe.Offsetof(Gauges{}.Conns)},
	{Name: "outbound_bytes", Help: "Owed bytes queued and not yet handed to the kernel.", gauge: true, off: unsafe.Offsetof(Gauges{}.Outbound)},
	{Name: "outbound_peak_bytes", Help: "The most owed bytes queued at once since the loop started.", gauge: true, off: unsafe.Offsetof(Gauges{}.OutboundPeak)},
	{Name: "paused_connections", Help: "Connections not read now, by cause.", Label: "cause", LabelValue: "watermark", gauge: true, off: unsafe.Offsetof(Gauges{}.ReadPaused)},
	{Name: "paused_connections", Help: "Connections not read now, by cause.", Label: "cause", LabelValue: "offload", gauge: true, off: unsafe.Offsetof(Gauges{}.OffloadPaused)},
	{Name: "offload_waiting_connections", Help: "Connections waiting for room in the offload pool.", gauge: true, off: unsafe.Offsetof(Gauges{}.OffloadWaiting)},
}

// numCounters and numGauges are the fields of Counters and Gauges.
const (
	numCounters = unsafe.Sizeof(Counters{}) / 8
	numGauges   = unsafe.Sizeof(Gauges{}) / 8
)

// slots views c as the array of its fields. It is safe because every
// field of Counters is a uint64 or an array of them, so the struct is laid
// out as numCounters consecutive uint64s with no padding
// (TestCounterTable checks the sizes and that the table covers each slot
// once).
func (c *Counters) slots() *[numCounters]uint64 { return (*[numCounters]uint64)(unsafe.Pointer(c)) }

// slots views g as the array of its fields; safe as Counters.slots is,
// every field being an int64.
func (g *Gauges) slots() *[numGauges]int64 { return (*[numGauges]int64)(unsafe.Pointer(g)) }

// Add adds o's counters to c's.
func (c *Counters) Add(o *Counters) {
	cs, os := c.slots(), o.slots()
	for i := range cs {
		cs[i] += os[i]
	}
}

// Add adds o's gauges to g's.
func (g *Gauges) Add(o *Gauges) {
	gs, os := g.slots(), o.slots()
	for i := range gs {
		gs[i] += os[i]
	}
}

// tallies is what the loop counts, in plain fields.
type tallies struct {
	Counters
	Gauges
	tick, callback metrics.Local
}

// owed adds n (negative: subtracts) to the outbound gauge.
func (s *tallies) owed(n int) {
	s.Outbound += int64(n)
	if s.Outbound > s.OutboundPeak {
		s.OutboundPeak = s.Outbound
	}
}

// unpaused takes a closing connection out of the paused gauges.
func (l *Loop) unpaused(c *Conn) {
	if c.flags&flagReadPaused != 0 {
		l.st.ReadPaused--
	}
	if c.flags&flagOffPaused != 0 {
		l.st.OffloadPaused--
	}
}

// published mirrors tallies for other goroutines. Each field has one
// writer (the loop) and is stored atomically, so readers never see a torn
// value; a snapshot is per field, not across fields.
//
// A busy loop publishes every Config.StatsInterval, so that the atomic
// stores are not paid every tick; a waiting loop's figures are made exact
// on demand. The handshake, with both sides' atomics sequentially
// consistent:
//
//	loop, around a poll that may block   Stats, another goroutine
//	  if want: answer                      if !waiting: return
//	  if tallies unpublished:              under mu: want = true and
//	    waiting = true                       take the channel to wait on
//	    if want: answer, waiting = false   if !waiting: return
//	poll                                   wake the loop; wait for the
//	  waiting = false (if set)               channel's close (or the
//	  if want: answer                        loop's exit)
//
// A reader waits only if it saw waiting after its want was stored, so
// the loop was then between the mark and the poll's end, and checks want
// after the poll, which the reader's wake ends. An answer publishes, then
// clears want and closes the channel in one critical section, so want is
// set exactly while some reader's channel is open: no reader's request is
// cleared by an answer that does not release it. (The first version
// cleared want before publishing and closed the channel after; a reader
// storing want between the two waited on a fresh channel with want
// cleared, until the loop stopped.) Answers run only before a poll or
// between a poll and the handling of its events, when the tallies are
// those of the waiting loop, and never wait for a callback.
type published struct {
	id             int
	counters       [numCounters]atomic.Uint64
	gauges         [numGauges]atomic.Int64
	tick, callback metrics.Histogram

	waiting atomic.Bool // the loop may be blocked in its poll with tallies unpublished
	want    atomic.Bool // a reader asks the waiting loop to publish
	mu      sync.Mutex  // guards answered, and the changes of want
	// answered is closed by the next answer; readers that asked wait on
	// it. nil when nobody waits; non-nil exactly while want is set.
	answered chan struct{}
}

func (p *published) init(id int) { p.id = id }

// publish copies the loop's tallies for Stats; stores of unchanged values
// are skipped.
func (l *Loop) publish() {
	l.pubDirty = false
	l.pubAt = l.now
	l.pubConns = l.connEvents()
	s, p := &l.st, &l.stats
	s.Conns = int64(l.nconns)
	for i, v := range s.Counters.slots() {
		if p.counters[i].Load() != v {
			p.counters[i].Store(v)
		}
	}
	for i, v := range s.Gauges.slots() {
		if p.gauges[i].Load() != v {
			p.gauges[i].Store(v)
		}
	}
	p.tick.Publish(&s.tick)
	p.callback.Publish(&s.callback)
}

// connEvents sums the counters of connections coming and going and of
// panics. They are rare next to bytes and events, and what a reader most
// often checks right after causing one (a client that connected, closed
// or made a handler panic), so a tick that changed this sum publishes at
// its end rather than waiting for StatsInterval: each only grows, so the
// sum changes whenever one of them does. Four loads and a compare a tick.
func (l *Loop) connEvents() uint64 {
	s := &l.st.Counters
	return s.Opened + s.Closed + s.Accepted + s.Panics
}

// Stats is a snapshot of one loop's counters.
type Stats struct {
	Loop int    // loop number
	IO   string // the loop's I/O backend: "epoll" or "uring"
	Counters
	Gauges
	HandlerTime  time.Duration     // time spent in timed callbacks (CallbackTime.Sum)
	TickTime     HistogramSnapshot // busy ticks, poll excluded
	CallbackTime HistogramSnapshot // timed handler callbacks (open, data, tick)
}

// beforePoll runs before a poll that may block: it answers a reader that
// already asked, then, with tallies unpublished, marks the loop waiting
// and answers a reader that asked meanwhile. It reports whether the mark
// is set, for afterPoll.
func (l *Loop) beforePoll() bool {
	p := &l.stats
	if p.want.Load() {
		l.answer()
	}
	if !l.pubDirty {
		return false
	}
	p.waiting.Store(true)
	if p.want.Load() {
		l.answer()
		p.waiting.Store(false)
		return false
	}
	return true
}

// afterPoll runs after every poll that was allowed to block: it clears
// beforePoll's mark, if set, and answers a reader that asked while the
// loop waited, before the poll's events change anything.
func (l *Loop) afterPoll(marked bool) {
	p := &l.stats
	if marked {
		p.waiting.Store(false)
	}
	if p.want.Load() {
		l.answer()
	}
}

// answer publishes for the readers that asked and lets them go on.
func (l *Loop) answer() {
	l.publish()
	p := &l.stats
	p.mu.Lock()
	p.want.Store(false)
	if p.answered != nil {
		close(p.answered)
		p.answered = nil
	}
	p.mu.Unlock()
}

// fresh returns once what the loop published is exact as of a moment
// during the call at which the loop waited for events, or, when the loop
// did not wait with unpublished tallies, at once: a busy loop's figures
// are at most Config.StatsInterval (and one tick) old. A loop that waits
// is woken to publish, and Stats waits for that; one that is running a
// callback, however slow, is not waited for.
func (l *Loop) fresh() {
	p := &l.stats
	if !p.waiting.Load() {
		return
	}
	p.mu.Lock()
	if p.answered == nil {
		p.answered = make(chan struct{})
	}
	ch := p.answered
	p.want.Store(true)
	p.mu.Unlock()
	if !p.waiting.Load() {
		return // the loop woke by itself, and is busy
	}
	if l.wake() != nil {
		return
	}
	select {
	case <-ch:
	case <-l.done:
	}
}

// Stats returns a snapshot of the loop's counters: exact when the loop
// waits for events (it is woken to publish them, and Stats waits for
// that), else as of its last publication, at most Config.StatsInterval
// and one tick old. The loop also publishes before it runs posted
// functions, so a caller that heard back from one it posted sees every
// tick before that function's. Safe from any goroutine.
func (l *Loop) Stats() Stats {
	l.fresh()
	return l.Published()
}

// Published returns the loop's counters as last published, without
// asking a waiting loop to publish: at most Config.StatsInterval and one
// tick old, or older while the loop waits. For readers that must not
// wake the loop (the least-connections balancer, on every accept). Safe
// from any goroutine.
func (l *Loop) Published() Stats {
	p := &l.stats
	s := Stats{Loop: p.id, IO: l.cfg.IO.String()}
	cs, gs := s.Counters.slots(), s.Gauges.slots()
	for i := range cs {
		cs[i] = p.counters[i].Load()
	}
	for i := range gs {
		gs[i] = p.gauges[i].Load()
	}
	// Tasks skipped in the pool's queue are counted by the pool's
	// goroutines, not by the loop, so they are added here.
	skipped := l.offSkipped.Load()
	s.OffloadDropped += skipped
	s.OffloadSkipped = skipped
	s.TickTime = p.tick.Snapshot()
	s.CallbackTime = p.callback.Snapshot()
	s.HandlerTime = s.CallbackTime.Sum
	return s
}

// HistogramSnapshot holds the counts of a histogram of durations in
// power-of-two microsecond buckets, and their sum.
type HistogramSnapshot = metrics.HistogramSnapshot
