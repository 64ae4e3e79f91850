package engine

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/pinion-net/pinion/internal/loop"
)

// IO chooses the loops' I/O backend (Config.IO).
type IO uint8

const (
	// IOAuto uses io_uring where the ring can be set up with the
	// features and operations the backend needs, else epoll.
	IOAuto IO = iota
	// IOEpoll waits for readiness with the poller (epoll, kqueue) and
	// makes the reads and writes itself.
	IOEpoll
	// IOUring submits receives, sends, accepts and closes to one io_uring
	// per loop (Linux 6.0 or later); Start fails where it cannot.
	IOUring
)

// String returns "auto", "epoll" or "uring".
func (m IO) String() string {
	switch m {
	case IOAuto:
		return "auto"
	case IOEpoll:
		return "epoll"
	case IOUring:
		return "uring"
	}
	return fmt.Sprintf("io(%d)", uint8(m))
}

// ParseIO parses "auto", "epoll" or "uring".
func ParseIO(s string) (IO, error) {
	switch s {
	case "auto", "":
		return IOAuto, nil
	case "epoll":
		return IOEpoll, nil
	case "uring", "io_uring":
		return IOUring, nil
	}
	return IOAuto, fmt.Errorf("engine: unknown I/O backend %q (want auto, epoll or uring)", s)
}

// forceRingUnavailable makes every ring setup fail as if the kernel
// refused it, so that tests see the fallback on a kernel with io_uring.
// Tests set it through export_test.go; it is not a public knob.
var forceRingUnavailable atomic.Bool

// chooseIO resolves Config.IO once for every loop: with IOAuto a ring is
// set up and closed on a throwaway thread, and its failure selects epoll;
// the choice and its reason are logged.
func (e *Engine) chooseIO() (loop.IOMode, error) {
	switch e.cfg.IO {
	case IOEpoll:
		e.log.Info("io backend", "io", "epoll", "reason", "configured")
		return loop.IOEpoll, nil
	case IOAuto, IOUring:
	default:
		return 0, fmt.Errorf("engine: unknown Config.IO %d", e.cfg.IO)
	}
	err := loop.ProbeRing(loop.RingConfig{ForceUnavailable: forceRingUnavailable.Load()})
	if err == nil {
		e.log.Info("io backend", "io", "uring", "reason", e.cfg.IO.String())
		return loop.IOUring, nil
	}
	if e.cfg.IO == IOUring {
		return 0, fmt.Errorf("engine: Config.IO is IOUring: %w", err)
	}
	reason, detail, _ := loop.RingUnavailable(err)
	e.log.Info("io backend", "io", "epoll", "reason", reason, "detail", detail, "err", err)
	return loop.IOEpoll, nil
}

// waitStarted waits for every loop to report its start. A loop whose ring
// failed although the probe succeeded fails Start: loops on mixed backends
// would make figures and bugs hard to read.
func (e *Engine) waitStarted() error {
	var errs []error
	for _, l := range e.loops {
		if err := <-l.Started(); err != nil {
			errs = append(errs, fmt.Errorf("engine: loop %d (%v): %w", l.ID(), l.IO(), err))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	for _, l := range e.loops {
		_ = l.Abort()
	}
	e.wg.Wait()
	if e.pool != nil {
		_ = e.pool.Close(context.Background())
	}
	return errors.Join(errs...)
}
