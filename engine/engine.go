package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/pinion-net/pinion/internal/affinity"
	"github.com/pinion-net/pinion/internal/offload"
	"github.com/pinion-net/pinion/internal/sock"
	"github.com/pinion-net/pinion/loop"
)

// ErrStopped is returned by Shutdown and Dial once the engine is shut down.
var ErrStopped = errors.New("engine: stopped")

// Engine is a running set of event loops. Its methods are safe from any
// goroutine; none of them runs on a loop.
type Engine struct {
	cfg   Config
	log   *slog.Logger
	loops []*loop.Loop
	addrs []net.Addr
	limit *loop.Limit
	pool  *offload.Pool // nil with OffloadWorkers < 0

	watchdog *watchdog    // nil without loops
	slow     atomic.Int64 // the SlowCallback in effect, for the watchdog
	lim      limitsState
	prom     promState
	wg       sync.WaitGroup
	next     atomic.Uint32 // round robin for acceptors and Dial

	shutdownOnce sync.Once
	shutdownErr  error
	stopped      atomic.Bool
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
	e.limit = loop.NewLimit(cfg.MaxConns) // also with no bound: SetLimits may set one
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
		l, err := loop.New(e.loopConfig(i, h))
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
	cpus := affinity.Allowed()
	for i, l := range e.loops {
		e.wg.Add(1)
		go e.runLoop(l, cpus[i%len(cpus)])
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
		Handler:          h,
		Logger:           c.Logger,
		ReadBufferSize:   c.ReadBufferSize,
		MaxInbound:       c.MaxInbound,
		WriteLow:         c.WriteLow,
		WriteHigh:        c.WriteHigh,
		WriteMax:         c.WriteMax,
		IdleTimeout:      off(c.IdleTimeout),
		WriteTimeout:     off(c.WriteTimeout),
		LingerTimeout:    c.LingerTimeout,
		DialTimeout:      c.DialTimeout,
		TickInterval:     off(c.TickInterval),
		SlowCallback:     c.SlowCallback,
		AcceptBackoffMax: c.AcceptBackoffMax,
		NoDelay:          !c.TCPDelay,
		Limit:            e.limit,
		Offload:          e.executor(),
		OffloadPolicy:    c.OffloadPolicy,
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

// runLoop is the body of loop goroutine l: locked to its thread (pinned when
// configured) until it exits. It never unlocks the thread: the runtime then
// ends the thread with the goroutine instead of reusing a thread whose CPU
// mask was changed.
func (e *Engine) runLoop(l *loop.Loop, cpu int) {
	defer e.wg.Done()
	runtime.LockOSThread()
	if e.cfg.Pin == PinOn {
		if err := affinity.PinThread(cpu); err != nil {
			e.log.Warn("cannot pin loop thread; running unpinned", "loop", l.ID(), "cpu", cpu, "err", err)
		}
	}
	l.Run()
}

// listen opens the listening sockets of one address: one per loop with
// ReusePort over TCP, else one acceptor socket whose connections are spread
// by the balancer.
func (e *Engine) listen(s string) error {
	a, err := sock.ParseAddr(s)
	if err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	if e.cfg.Balance == ReusePort && a.Network != "unix" {
		for i, l := range e.loops {
			fd, bound, err := sock.Listen(a, true, e.cfg.Backlog)
			if err != nil {
				return fmt.Errorf("engine: %w", err)
			}
			if err := l.AddListener(fd, bound, nil); err != nil {
				_ = closeFD(fd)
				return fmt.Errorf("engine: %w", err)
			}
			if i == 0 {
				e.addrs = append(e.addrs, bound)
				// Port 0 picked a port: the other loops must share it.
				a.Address = bound.String()
			}
		}
		return nil
	}
	fd, bound, err := sock.Listen(a, false, e.cfg.Backlog)
	if err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	host := e.loops[len(e.addrs)%len(e.loops)]
	if err := host.AddListener(fd, bound, e.balancer()); err != nil {
		_ = closeFD(fd)
		return fmt.Errorf("engine: %w", err)
	}
	e.addrs = append(e.addrs, bound)
	return nil
}

// balancer returns the acceptor's choice of loop.
func (e *Engine) balancer() func() *loop.Loop {
	if e.cfg.Balance == LeastConn {
		// Loops publish Conns once per tick, so a burst accepted in one
		// tick would all go to the loop that looked emptiest. Count also
		// what this acceptor handed each loop and the loop has not yet
		// reported as opened. The closure runs on the acceptor's loop only.
		handed := make([]uint64, len(e.loops))
		opened := make([]uint64, len(e.loops))
		return func() *loop.Loop {
			best, bestN := 0, int64(0)
			for i, l := range e.loops {
				s := l.Stats()
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
		go e.runLoop(l, 0)
		_ = l.Abort()
	}
	e.wg.Wait()
	if e.pool != nil {
		_ = e.pool.Close(context.Background())
	}
}

// Addrs returns the addresses the engine listens on, with real ports, in
// the order of Config.Addrs.
func (e *Engine) Addrs() []net.Addr { return append([]net.Addr(nil), e.addrs...) }

// Loops returns the number of event loops.
func (e *Engine) Loops() int { return len(e.loops) }

// Shutdown stops the engine in the phases of DESIGN §8: (1) every loop
// closes its listeners, so new connects are refused; (2) connections stop
// being read, owed bytes flush and FIN is sent; (3) connections close. If
// ctx ends first, every connection is closed at once and Shutdown returns
// ctx.Err(). Either way, every loop goroutine has exited when it returns.
// Calling it again returns the first call's result.
func (e *Engine) Shutdown(ctx context.Context) error {
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
		return e.closePool()
	case <-ctx.Done():
	}
	// Out of time: closing the connections cancels their tasks' contexts.
	for _, l := range e.loops {
		_ = l.Abort()
	}
	<-stopped
	_ = e.closePool()
	return ctx.Err()
}

// closePool waits for the offload workers to exit. The loops are gone, so
// nothing submits any more; running tasks have had their contexts
// cancelled if the shutdown ran out of time.
func (e *Engine) closePool() error {
	e.stopWatchdog()
	if e.pool == nil {
		return nil
	}
	return e.pool.Close(context.Background())
}

// Dial opens an outbound connection owned by one of the loops (chosen in
// turn) and returns its handle once connected. The handler's OnOpen has
// been called, or is about to be, when Dial returns; userCtx is the
// connection's Context from the start. addr has the form of Config.Addrs.
func (e *Engine) Dial(ctx context.Context, addr string, userCtx any) (Handle, error) {
	if e.stopped.Load() {
		return Handle{}, ErrStopped
	}
	if len(e.loops) == 0 {
		return Handle{}, ErrStopped
	}
	type result struct {
		h   Handle
		err error
	}
	ch := make(chan result, 1)
	err := e.nextLoop().DialAsync(addr, userCtx, func(h Handle, err error) { ch <- result{h, err} })
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
