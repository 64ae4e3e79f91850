package loop

import "time"

// Limits are the settings of a loop that may change while it runs.
type Limits struct {
	IdleTimeout   time.Duration // as Config.IdleTimeout; 0: never
	SlowCallback  time.Duration // as Config.SlowCallback; negative: off
	OffloadPolicy OffloadPolicy
}

// SetLimits posts a task that applies lim on the loop, then calls done
// there (when not nil). Connections open now get their deadlines
// recomputed, so a shorter IdleTimeout closes the connections already idle
// that long at once. It returns ErrLoopClosed, and calls nothing, when the
// loop has stopped. Safe from any goroutine.
func (l *Loop) SetLimits(lim Limits, done func()) error {
	return l.post(task{kind: taskFunc, fn: func() {
		l.applyLimits(lim)
		if done != nil {
			done()
		}
	}})
}

// applyLimits runs on the loop.
func (l *Loop) applyLimits(lim Limits) {
	idleChanged := lim.IdleTimeout != l.cfg.IdleTimeout
	l.cfg.IdleTimeout = max(lim.IdleTimeout, 0)
	l.cfg.SlowCallback = lim.SlowCallback
	l.cfg.OffloadPolicy = lim.OffloadPolicy
	if !idleChanged {
		return
	}
	for c := range l.conns.owned(l) {
		if c.state == stateOpen {
			if d := l.deadline(c); d != 0 {
				l.armConn(c, d)
			}
		}
	}
}
