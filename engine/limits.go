package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/pinion-net/pinion/internal/loop"
)

// ErrBadLimits is wrapped by SetLimits' refusals of a malformed change.
var ErrBadLimits = errors.New("engine: invalid limits")

// Limits are the settings that may change while the engine runs
// (docs/adr/0013-runtime-limits.md). Limits returns them with every field
// explicit; SetLimits takes a whole set, typically Limits' result with some
// fields changed.
type Limits struct {
	// MaxConns bounds accepted connections over all loops; negative: no
	// bound. Lowering it below the connections open keeps them open and
	// refuses new ones until enough have closed.
	MaxConns int
	// IdleTimeout closes connections that moved no byte for this long;
	// negative: never. It applies to open connections too.
	IdleTimeout time.Duration
	// SlowCallback is the callback duration counted and logged as blocking
	// the loop; negative: off.
	SlowCallback time.Duration
	// OffloadPolicy is what Conn.Offload does when the pool is full.
	OffloadPolicy OffloadPolicy
}

// limitsState is the engine's current Limits, guarded for SetLimits.
type limitsState struct {
	mu  sync.Mutex // held by SetLimits from validation to the last loop's answer
	cur Limits
}

// Validate reports whether l is a set SetLimits accepts. Zero durations
// and a zero MaxConns are refused: unlike in Config they do not mean a
// default, and the default is ambiguous for a change.
func (l Limits) Validate() error {
	var errs []error
	if l.MaxConns == 0 {
		errs = append(errs, errors.New("MaxConns must be positive, or negative for no bound"))
	}
	if l.IdleTimeout == 0 {
		errs = append(errs, errors.New("IdleTimeout must be positive, or negative for never"))
	}
	if l.SlowCallback == 0 {
		errs = append(errs, errors.New("SlowCallback must be positive, or negative for off"))
	}
	if l.OffloadPolicy != OffloadPause && l.OffloadPolicy != OffloadReject {
		errs = append(errs, fmt.Errorf("unknown OffloadPolicy %d", l.OffloadPolicy))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrBadLimits, errors.Join(errs...))
	}
	return nil
}

// Limits returns the limits in effect. Safe from any goroutine.
func (e *Engine) Limits() Limits {
	e.lim.mu.Lock()
	defer e.lim.mu.Unlock()
	return e.lim.cur
}

// SetLimits changes the limits of the running engine. A malformed set is
// refused whole (an error wrapping ErrBadLimits) and changes nothing.
// MaxConns takes effect at once, for every loop's next accept; the rest
// reaches each loop as a posted task, never by touching loop state from
// this goroutine. SetLimits returns once every loop has applied the change,
// or with ctx.Err() when ctx ends first (the loops still apply it), or with
// ErrStopped when the engine is shutting down. Safe from any goroutine;
// concurrent calls take turns.
func (e *Engine) SetLimits(ctx context.Context, l Limits) error {
	if err := l.Validate(); err != nil {
		return err
	}
	if e.stopped.Load() {
		return ErrStopped
	}
	e.lim.mu.Lock()
	defer e.lim.mu.Unlock()
	e.limit.SetMax(l.MaxConns)
	e.slow.Store(int64(l.SlowCallback))
	e.lim.cur = l
	ll := loop.Limits{IdleTimeout: off(l.IdleTimeout), SlowCallback: l.SlowCallback, OffloadPolicy: loop.OffloadPolicy(l.OffloadPolicy)}
	applied := make([]chan struct{}, len(e.loops))
	for i, lp := range e.loops {
		ch := make(chan struct{})
		applied[i] = ch
		if err := lp.SetLimits(ll, func() { close(ch) }); err != nil {
			return ErrStopped
		}
	}
	for i, lp := range e.loops {
		select {
		case <-applied[i]:
		case <-lp.Done(): // stopped before it ran the task
			return ErrStopped
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
