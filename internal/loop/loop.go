package loop

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/bytebufferpool"

	"github.com/pinion-net/pinion/internal/buffer"
	"github.com/pinion-net/pinion/internal/uring"
	"github.com/pinion-net/pinion/poller"
)

// maxIov bounds the segments of one writev (IOV_MAX is 1024 on Linux and
// the BSDs).
const maxIov = 1024

// Loop is one event loop. Create it with New, run it with Run on a
// goroutine of its own, and stop it through Drain or Abort (from any
// goroutine). Methods documented as loop-only must be called on the loop's
// goroutine.
type Loop struct {
	cfg Config
	h   Handler
	log *slog.Logger
	p   *poller.Poller
	sys sysState

	ring    *ringIO                    // the IOUring backend; nil with IOEpoll (io.go)
	waker   atomic.Pointer[uring.Ring] // the ring, for wake from other goroutines
	started chan error                 // Started

	events []poller.Event
	rbuf   []byte
	iov    [][]byte
	due    []func(error)
	dirty  []*Conn
	ios    []*connIO // free ones (conn_write.go)

	conns  *ConnTable // by fd, shared with the engine's other loops
	nconns int
	gen    uint32

	listeners []*listener
	pick      func() *Loop // acceptor mode: where accepted fds go

	pool    *buffer.Pool
	inPool  bytebufferpool.Pool
	replies bytebufferpool.Pool // offload replies: filled on workers, written here

	offWaiters []*Conn       // connections waiting for offload room, in order
	ready      []*Conn       // stalled connections with room again (backpressure.go)
	offSkipped atomic.Uint64 // tasks of closed connections that never started; written by workers

	// offCtx is the parent of every offload task's context; Abort and
	// the loop's exit cancel it first, so that no queued task starts
	// while the connections are being closed one by one.
	offCtx    context.Context
	offCancel context.CancelFunc

	deadlines heap[connEntry]  // the connections' (timer.go)
	timers    heap[timerEntry] // Schedule's
	epoch     time.Time
	now       int64 // loop clock: nanoseconds since epoch, read once per tick
	busy      bool  // work is left that the next poll must not wait for

	lastYield int64  // loop clock when the loop last blocked or yielded
	tickEnd   int64  // loop clock at the end of the last tick, to tell a poll that waited
	waits     uint64 // polls (or ring enters) made; loop-only, for tests

	running atomic.Int64  // loop clock at the start of the callback running now; 0: none
	goid    atomic.Uint64 // the loop goroutine's ID, for the blocked-callback watchdog

	// During OnData (and Wake) of active, view holds its unconsumed input.
	active *Conn
	view   []byte

	depth    int            // callbacks on the stack (lifecycle.go)
	held     int            // hold calls not yet released
	closes   []pendingClose // OnCloses waiting for the stack to unwind
	inCloses bool           // runCloses is running
	hooks    hooks          // the optional Handler interfaces h implements

	mb mailbox

	draining  bool     // Drain was called: stop once no connection is left
	quiescing bool     // Quiesce was called: not accepting (quiesce.go)
	onEmpty   []func() // Quiesce's functions, called once no connection is left
	stop      bool     // leave Run after this tick
	done      chan struct{}

	st       tallies
	stats    published
	pubDirty bool  // tallies may have changed since the last publish
	pubAt    int64 // loop clock (tick start) of the last publish
}

// New creates a loop and its poller. It starts nothing.
func New(cfg Config) (*Loop, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	p, err := poller.Open()
	if err != nil {
		return nil, fmt.Errorf("loop %d: %w", cfg.ID, err)
	}
	l := &Loop{
		cfg:    cfg,
		h:      cfg.Handler,
		log:    cfg.Logger.With("loop", cfg.ID),
		p:      p,
		events: make([]poller.Event, 256),
		rbuf:   make([]byte, cfg.ReadBufferSize),
		iov:    make([][]byte, 0, maxIov),
		pool:   buffer.NewPool(cfg.ChunkSize, cfg.MaxFreeChunks),
		conns:  cfg.Conns,
		epoch:  time.Now(),
		done:   make(chan struct{}),

		started: make(chan error, 1),
	}
	if l.conns == nil {
		l.conns = NewConnTable()
	}
	if cfg.IO == IOUring && cfg.ChunkSize > ringFirstChunk {
		l.pool.SetFirstChunk(ringFirstChunk)
	}
	l.offCtx, l.offCancel = context.WithCancel(context.Background())
	l.stats.init(cfg.ID)
	l.hooks = hooksOf(cfg.Handler)
	return l, nil
}

// ID returns the loop's number.
func (l *Loop) ID() int { return l.cfg.ID }

// Done is closed when Run has returned.
func (l *Loop) Done() <-chan struct{} { return l.done }

// Conns returns how many connections the loop owns now, lingering ones
// included. Loop-only; other goroutines read Stats.
func (l *Loop) Conns() int { return l.nconns }

// Run runs the loop until Drain has closed every connection or Abort was
// called. It must be called once, on a goroutine that does nothing else;
// pinning it to a thread and a CPU is the caller's business.
func (l *Loop) Run() {
	l.goid.Store(currentGoroutineID())
	defer l.exit()
	if err := l.startIO(); err != nil {
		l.log.Error("cannot set up the loop's I/O; not serving", "io", l.cfg.IO, "err", err)
		l.started <- err
		return
	}
	l.started <- nil
	// Tasks posted before the ring could be woken wait in the mailbox:
	// the first tick looks without blocking.
	l.busy = true
	if l.cfg.TickInterval > 0 {
		l.scheduleTick()
	}
	for !l.stop {
		l.tick()
	}
}

// exit fails what is left in the mailbox, closes what is left open, and
// releases the poller.
func (l *Loop) exit() {
	l.offCancel()
	for c := range l.conns.owned(l) {
		l.finish(c, ErrShutdown)
	}
	l.closeListeners()
	for _, t := range l.mb.close() {
		l.failTask(t)
	}
	l.quiescing = true // what Quiesce waits for has happened: no connection is left
	l.checkEmpty()
	l.publish()
	l.stopIO()
	_ = l.p.Close()
	close(l.done)
}

// clock returns the loop clock now.
func (l *Loop) clock() int64 { return int64(time.Since(l.epoch)) }

// clockAt converts a wall time to the loop clock; the zero Time is 0.
func (l *Loop) clockAt(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return l.clock() + int64(time.Until(t))
}

// Now returns the time the current tick started, cheaply. Loop-only.
func (l *Loop) Now() time.Time { return l.epoch.Add(time.Duration(l.now)) }

func (l *Loop) newGen() uint32 {
	l.gen++
	if l.gen == 0 { // 0 marks listeners
		l.gen = 1
	}
	return l.gen
}

// conn returns the connection of this loop with fd, or nil.
func (l *Loop) conn(fd int) *Conn {
	if c := l.conns.get(fd); c != nil && c.loop == l {
		return c
	}
	return nil
}

func (l *Loop) lookup(tok poller.Token) *Conn {
	c := l.conn(tok.FD())
	if c == nil || c.gen != tok.Gen() || c.state == stateClosed {
		return nil
	}
	return c
}

func (l *Loop) releaseIn(c *Conn) {
	if io := c.io; io != nil && io.in != nil {
		l.inPool.Put(io.in)
		io.in = nil
		io.inOff = 0
		l.dropIO(c)
	}
}

// mailbox is the loop's multi-producer queue of tasks: a mutex-guarded slice
// swapped with the loop's spare one, so neither side allocates in steady
// state. The poller's Wake is the doorbell.
type mailbox struct {
	mu     sync.Mutex
	tasks  []task
	spare  []task
	closed bool
	// queued mirrors len(tasks), stored under mu, so that the loop's
	// every-tick look at an empty mailbox takes no lock. A task pushed
	// just after the look is not lost: its push also wakes the poller.
	queued atomic.Int32
}

func (m *mailbox) push(t task) bool {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return false
	}
	m.tasks = append(m.tasks, t)
	m.queued.Store(int32(len(m.tasks)))
	m.mu.Unlock()
	return true
}

// take returns the queued tasks, or nil when there are none, and gives the
// mailbox the spare slice.
func (m *mailbox) take() []task {
	if m.queued.Load() == 0 {
		return nil
	}
	m.mu.Lock()
	ts := m.tasks
	m.tasks = m.spare[:0]
	m.queued.Store(0)
	m.mu.Unlock()
	return ts
}

// giveBack returns a run slice as the next spare, with any tasks left
// unrun (over budget) put back in front of the queue.
func (m *mailbox) giveBack(ts []task, rest []task) {
	m.mu.Lock()
	if len(rest) > 0 {
		// Copy rest into the queue's own array: rest aliases ts, which is
		// cleared and becomes the spare below.
		m.tasks = slices.Insert(m.tasks, 0, rest...)
		m.queued.Store(int32(len(m.tasks)))
	}
	clear(ts)
	m.spare = ts[:0]
	m.mu.Unlock()
}

// close refuses further tasks and returns those queued.
func (m *mailbox) close() []task {
	m.mu.Lock()
	m.closed = true
	ts := m.tasks
	m.tasks = nil
	m.mu.Unlock()
	return ts
}
