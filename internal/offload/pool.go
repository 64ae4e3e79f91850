package offload

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pinion-net/pinion/internal/metrics"
)

// Errors returned by TrySubmit.
var (
	ErrFull   = errors.New("offload: queue full")
	ErrClosed = errors.New("offload: pool closed")
)

// Config sizes a pool.
type Config struct {
	Workers int          // worker goroutines; required, > 0
	Queue   int          // jobs waiting beyond the running ones; required, > 0
	Logger  *slog.Logger // panics are logged here; default discards
	// OnRoom is called (from a worker goroutine) after a TrySubmit failed
	// with ErrFull and a slot has since been freed; once per such episode.
	OnRoom func()
}

type job struct {
	fn       func()
	enqueued int64 // nanoseconds since the pool's epoch
}

// Pool runs submitted functions on a fixed set of workers.
type Pool struct {
	cfg   Config
	log   *slog.Logger
	jobs  chan job
	epoch time.Time

	mu     sync.RWMutex // guards closed against concurrent sends
	closed bool
	wg     sync.WaitGroup

	wantRoom atomic.Bool // a submit failed with ErrFull since the last OnRoom

	busy                                     atomic.Int64
	highWater                                atomic.Int64
	submitted, completed, rejected, panicked atomic.Uint64
	wait, run                                metrics.Histogram
}

// New validates cfg and starts the workers.
func New(cfg Config) (*Pool, error) {
	if cfg.Workers <= 0 || cfg.Queue <= 0 {
		return nil, fmt.Errorf("offload: Workers (%d) and Queue (%d) must be positive", cfg.Workers, cfg.Queue)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	p := &Pool{cfg: cfg, log: cfg.Logger, jobs: make(chan job, cfg.Queue), epoch: time.Now()}
	p.wg.Add(cfg.Workers)
	for range cfg.Workers {
		go p.worker()
	}
	return p, nil
}

func (p *Pool) clock() int64 { return int64(time.Since(p.epoch)) }

// TrySubmit queues fn without blocking. It returns ErrFull when the queue
// holds Config.Queue jobs, and ErrClosed after Close. Safe from any
// goroutine.
func (p *Pool) TrySubmit(fn func()) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return ErrClosed
	}
	j := job{fn: fn, enqueued: p.clock()}
	select {
	case p.jobs <- j:
	default:
		// Ask for OnRoom first, then try once more: a worker that takes a
		// job after the store sees it, and one that took the last jobs
		// between the failed send and the store left room for this send.
		// Storing after the failure alone could lose the episode's OnRoom.
		p.wantRoom.Store(true)
		select {
		case p.jobs <- j:
		default:
			p.rejected.Add(1)
			return ErrFull
		}
	}
	p.submitted.Add(1)
	depth := int64(len(p.jobs))
	for {
		hw := p.highWater.Load()
		if depth <= hw || p.highWater.CompareAndSwap(hw, depth) {
			break
		}
	}
	return nil
}

func (p *Pool) worker() {
	defer p.wg.Done()
	for j := range p.jobs {
		if p.wantRoom.Load() && p.wantRoom.CompareAndSwap(true, false) && p.cfg.OnRoom != nil {
			p.cfg.OnRoom()
		}
		start := p.clock()
		p.wait.Observe(time.Duration(start - j.enqueued))
		p.busy.Add(1)
		p.runJob(j.fn)
		p.busy.Add(-1)
		p.run.Observe(time.Duration(p.clock() - start))
		p.completed.Add(1)
	}
}

// runJob runs one job; a panic that the job did not handle itself is
// counted and logged, and the worker goes on.
func (p *Pool) runJob(fn func()) {
	defer func() {
		if r := recover(); r != nil {
			p.panicked.Add(1)
			p.log.Error("offload job panicked", "panic", r, "stack", string(debug.Stack()))
		}
	}()
	fn()
}

// Close refuses new jobs, lets the queued and running ones finish, and
// returns once every worker has exited, or returns ctx.Err() when ctx ends
// first (the workers then still exit once their jobs return; cancelling
// those jobs is the submitter's business).
func (p *Pool) Close(ctx context.Context) error {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.jobs)
	}
	p.mu.Unlock()
	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Wait blocks until every worker has exited (after Close).
func (p *Pool) Wait() { p.wg.Wait() }

// Stats is a snapshot of a pool.
type Stats struct {
	Workers   int                       // configured workers
	Busy      int64                     // workers running a job now
	Queue     int                       // configured queue bound
	Depth     int                       // jobs waiting now
	HighWater int64                     // most jobs ever waiting at once
	Submitted uint64                    // jobs accepted
	Completed uint64                    // jobs finished (panicked ones included)
	Rejected  uint64                    // TrySubmit calls refused with ErrFull
	Panics    uint64                    // jobs that panicked without recovering
	QueueWait metrics.HistogramSnapshot // time from submit to start
	RunTime   metrics.HistogramSnapshot // time from start to end
}

// Stats returns a snapshot. Safe from any goroutine.
func (p *Pool) Stats() Stats {
	return Stats{
		Workers:   p.cfg.Workers,
		Busy:      p.busy.Load(),
		Queue:     p.cfg.Queue,
		Depth:     len(p.jobs),
		HighWater: p.highWater.Load(),
		Submitted: p.submitted.Load(),
		Completed: p.completed.Load(),
		Rejected:  p.rejected.Load(),
		Panics:    p.panicked.Load(),
		QueueWait: p.wait.Snapshot(),
		RunTime:   p.run.Snapshot(),
	}
}
