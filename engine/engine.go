package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"

	"github.com/pinion-net/pinion/internal/loop"
	"github.com/pinion-net/pinion/internal/offload"
)

// Engine is a running set of event loops. Its methods are safe from any
// goroutine; none of them runs on a loop.
type Engine struct {
	cfg   Config
	log   *slog.Logger
	loops []*loop.Loop
	addrs []net.Addr
	limit *loop.Limit
	conns *loop.ConnTable // the loops' one fd table
	pool  *offload.Pool   // nil with OffloadWorkers < 0
	proxy *proxyHandler   // nil unless a listener requires the PROXY protocol

	watchdog *watchdog    // nil without loops
	slow     atomic.Int64 // the SlowCallback in effect, for the watchdog
	lim      limitsState
	prom     promState
	drain    drainState
	wg       sync.WaitGroup
	next     atomic.Uint32 // round robin for acceptors and Dial

	shutdownOnce sync.Once
	shutdownErr  error
	stopped      atomic.Bool
	starting     atomic.Bool  // OnStart is running: Dial would wait forever
	stuck        atomic.Int64 // offload tasks Shutdown gave up waiting for
}

// Start validates cfg, opens the listening sockets and starts the loops. It
// returns once they run; it does not block.
func Start(h Handler, cfg Config) (*Engine, error) {
	if h == nil {
		return nil, errors.New("engine: nil Handler")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	e := &Engine{cfg: cfg, log: cfg.Logger}
	e.drain.init()
	if e.proxy, err = newProxyHandler(h, cfg); err != nil {
		return nil, err
	}
	user := h // OnStart goes to the handler the caller gave
	if e.proxy != nil {
		h = e.proxy
	}
	io, err := e.chooseIO() // before anything that would need undoing
	if err != nil {
		return nil, err
	}
	e.limit = loop.NewLimit(cfg.MaxConns) // also with no bound: SetLimits may set one
	e.conns = loop.NewConnTable()
	e.slow.Store(int64(cfg.SlowCallback))
	e.lim.cur = Limits{MaxConns: cfg.MaxConns, IdleTimeout: cfg.IdleTimeout, SlowCallback: cfg.SlowCallback, OffloadPolicy: cfg.OffloadPolicy}
	if cfg.OffloadWorkers > 0 {
		e.pool, err = offload.New(offload.Config{
			Workers: cfg.OffloadWorkers,
			Queue:   cfg.OffloadQueue,
			Logger:  cfg.Logger,
			OnRoom:  e.offloadRoom,
		})
		if err != nil {
			return nil, fmt.Errorf("engine: %w", err)
		}
	}
	for i := range cfg.Loops {
		lc := e.loopConfig(i, h)
		lc.IO = io
		lc.Ring.ForceUnavailable = forceRingUnavailable.Load()
		l, err := loop.New(lc)
		if err != nil {
			e.abandon()
			return nil, err
		}
		e.loops = append(e.loops, l)
	}
	for _, s := range cfg.Addrs {
		if err := e.listen(s); err != nil {
			e.abandon()
			return nil, err
		}
	}
	if e.proxy != nil {
		for i, a := range e.addrs {
			e.proxy.addListener(cfg, i, a)
		}
	}
	if err := e.adopt(); err != nil {
		e.abandon()
		return nil, err
	}
	if err := e.onStart(user); err != nil {
		e.abandon()
		return nil, err
	}
	cpus := cfg.CPUs
	if len(cpus) == 0 {
		cpus = loop.CPUs()
	}
	for i, l := range e.loops {
		e.wg.Add(1)
		go e.runLoop(l, cpus[i%len(cpus)])
	}
	if err := e.waitStarted(); err != nil {
		return nil, err
	}
	e.startWatchdog()
	return e, nil
}

// Run starts an engine and blocks until ctx is done, then shuts it down,
// allowing Config.ShutdownTimeout for the graceful part.
func Run(ctx context.Context, h Handler, cfg Config) error {
	e, err := Start(h, cfg)
	if err != nil {
		return err
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), e.cfg.ShutdownTimeout)
	defer cancel()
	return e.Shutdown(sctx)
}

func (e *Engine) loopConfig(i int, h Handler) loop.Config {
	c := e.cfg
	return loop.Config{
		ID:               i,
		Handler:          &handler{h},
		Logger:           c.Logger,
		ReadBufferSize:   c.ReadBufferSize,
		ReadBudget:       c.ReadBudget,
		TaskBudget:       c.TaskBudget,
		AcceptBudget:     c.AcceptBudget,
		MaxInbound:       c.MaxInbound,
		WriteLow:         c.WriteLow,
		WriteHigh:        c.WriteHigh,
		WriteMax:         c.WriteMax,
		MaxFreeIOs:       c.MaxFreeIOs,
		Ring:             loop.RingConfig{ReleaseAfter: c.RingReleaseAfter},
		IdleTimeout:      off(c.IdleTimeout),
		WriteTimeout:     off(c.WriteTimeout),
		LingerTimeout:    c.LingerTimeout,
		DialTimeout:      c.DialTimeout,
		TickInterval:     off(c.TickInterval),
		SlowCallback:     c.SlowCallback,
		StatsInterval:    c.StatsInterval,
		AcceptBackoffMax: c.AcceptBackoffMax,
		NoDelay:          !c.TCPDelay,
		Limit:            e.limit,
		Conns:            e.conns,
		Offload:          e.executor(),
		OffloadPolicy:    c.OffloadPolicy.loop(),
		OffloadPending:   c.OffloadPending,
	}
}

// executor adapts the pool to loop.Executor, or returns nil without one.
func (e *Engine) executor() loop.Executor {
	if e.pool == nil {
		return nil
	}
	return poolExecutor{e.pool}
}

type poolExecutor struct{ p *offload.Pool }

func (x poolExecutor) TrySubmit(fn func()) error {
	err := x.p.TrySubmit(fn)
	if errors.Is(err, offload.ErrFull) {
		return loop.ErrOffloadFull
	}
	return err
}

// offloadRoom runs on a pool worker when a full queue got room: every loop
// retries its waiting connections.
func (e *Engine) offloadRoom() {
	for _, l := range e.loops {
		l.RetryOffload()
	}
}

// runLoop is the body of loop goroutine l: locked to its thread, and
// pinned to cpu when pinning is on, until it exits.
func (e *Engine) runLoop(l *loop.Loop, cpu int) {
	defer e.wg.Done()
	if e.cfg.Pin != PinOn {
		cpu = -1
	}
	l.RunOn(cpu)
}

// listen opens the listening sockets of one address: one per loop with
// ReusePort over TCP, else one acceptor socket, on the loops in turn, whose
// connections are spread by the balancer.
func (e *Engine) listen(s string) error {
	bound, err := loop.Listen(e.loops, s, e.cfg.Balance == ReusePort, e.cfg.Backlog,
		len(e.addrs)%len(e.loops), e.balancer())
	if err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	e.addrs = append(e.addrs, bound)
	return nil
}

// balancer returns the acceptor's choice of loop.
func (e *Engine) balancer() func() *loop.Loop {
	if e.cfg.Balance == LeastConn {
		// Loops publish Conns every StatsInterval, so a burst accepted
		// meanwhile would all go to the loop that looked emptiest. Count
		// also what this acceptor handed each loop and the loop has not
		// yet reported as opened. The closure runs on the acceptor's loop
		// only, and reads what the loops published without waking them.
		handed := make([]uint64, len(e.loops))
		opened := make([]uint64, len(e.loops))
		return func() *loop.Loop {
			best, bestN := 0, int64(0)
			for i, l := range e.loops {
				s := l.Published()
				n := s.Conns
				if seen := s.Opened - opened[i]; handed[i] > seen {
					n += int64(handed[i] - seen)
				} else {
					handed[i], opened[i] = 0, s.Opened
				}
				if i == 0 || n < bestN {
					best, bestN = i, n
				}
			}
			handed[best]++
			return e.loops[best]
		}
	}
	return e.nextLoop
}

func (e *Engine) nextLoop() *loop.Loop {
	return e.loops[int(e.next.Add(1)-1)%len(e.loops)]
}

// abandon releases what a failed Start created.
func (e *Engine) abandon() {
	for _, l := range e.loops {
		e.wg.Add(1)
		go e.runLoop(l, -1)
		_ = l.Abort()
	}
	e.wg.Wait()
	if e.pool != nil {
		_ = e.pool.Close(context.Background())
	}
}

// Addrs returns the addresses the engine listens on, with real ports: those
// of Config.Addrs in order, then those of Config.Listeners (one per
// socket, or one per address for a PerLoop set).
func (e *Engine) Addrs() []net.Addr { return append([]net.Addr(nil), e.addrs...) }

// Loops returns the number of event loops.
func (e *Engine) Loops() int { return len(e.loops) }

// Shutdown stops the engine in the phases of docs/architecture.md
// (Shutdown): (1) every loop closes its listeners, so new connects are
// refused; (2) connections stop being read, owed bytes flush, offloaded
// tasks finish and FIN is sent; (3) connections close. If ctx ends first,
// every connection is closed at once (cancelling its tasks' contexts) and
// Shutdown returns ctx.Err() within ShutdownGrace after ctx's end, plus
// the time the loops take to close what they hold: offload tasks and
// sessions that ignore their cancelled context are not waited for past
// that grace; they are counted in Stats (Offload.Stuck) and logged, and
// left to return on their own. Every loop goroutine has exited when it
// returns. Calling it again returns the first call's result.
//
// Called inside a handler callback, where waiting would block a loop it
// waits for, Shutdown starts the shutdown on a goroutine of its own and
// returns ErrOnLoop at once; a later call from elsewhere waits for it. In
// OnStart it returns ErrOnLoop and does nothing: Start has not finished.
func (e *Engine) Shutdown(ctx context.Context) error {
	if e.starting.Load() {
		return ErrOnLoop
	}
	if e.callingLoop() != nil {
		go func() { _ = e.shutdownOnceDo(ctx) }()
		return ErrOnLoop
	}
	return e.shutdownOnceDo(ctx)
}

func (e *Engine) shutdownOnceDo(ctx context.Context) error {
	e.shutdownOnce.Do(func() {
		e.stopped.Store(true)
		e.shutdownErr = e.shutdown(ctx)
	})
	return e.shutdownErr
}

func (e *Engine) shutdown(ctx context.Context) error {
	var accepting sync.WaitGroup
	for _, l := range e.loops {
		accepting.Add(1)
		l.StopAccepting(accepting.Done)
	}
	stopped := make(chan struct{})
	go func() {
		accepting.Wait()
		for _, l := range e.loops {
			_ = l.Drain()
		}
		e.wg.Wait()
		close(stopped)
	}()
	select {
	case <-stopped:
		return e.closePool(ctx)
	case <-ctx.Done():
	}
	// Out of time: closing the connections cancels their tasks' contexts.
	for _, l := range e.loops {
		_ = l.Abort()
	}
	<-stopped
	_ = e.closePool(ctx)
	return ctx.Err()
}

// Dial opens an outbound connection owned by one of the loops (chosen in
// turn) and returns its handle once connected. The handler's OnOpen has
// been called, or is about to be, when Dial returns; userCtx is the
// connection's Context from the start. addr has the form of Config.Addrs.
//
// Dial blocks, so it must not be called where the loop would wait for
// itself: inside a handler callback or OnStart it returns ErrOnLoop at
// once (use DialAsync there). If the engine stops first it returns
// ErrStopped.
func (e *Engine) Dial(ctx context.Context, addr string, userCtx any) (Handle, error) {
	if e.stopped.Load() || len(e.loops) == 0 {
		return Handle{}, ErrStopped
	}
	if e.starting.Load() || e.callingLoop() != nil {
		return Handle{}, ErrOnLoop
	}
	type result struct {
		h   Handle
		err error
	}
	ch := make(chan result, 1)
	err := e.DialAsync(addr, userCtx, func(h Handle, err error) { ch <- result{h, err} })
	if err != nil {
		return Handle{}, err
	}
	select {
	case r := <-ch:
		return r.h, r.err
	case <-ctx.Done():
		go func() {
			if r := <-ch; r.err == nil {
				_ = r.h.Abort()
			}
		}()
		return Handle{}, ctx.Err()
	}
}
