package engine

import (
	"bytes"
	"runtime"
	"strconv"
	"time"
)

// watchdog is the control-plane goroutine that catches a handler callback
// blocking a loop while it still blocks, and logs the stack it is blocked
// in: the loops themselves can only report a slow callback once it
// returned, without saying where it spent the time. It checks every half
// SlowCallback (as SetLimits last set it; every second while it is off)
// and reports each blocking callback once.
type watchdog struct {
	e    *Engine
	stop chan struct{}
	done chan struct{}
}

func (e *Engine) startWatchdog() {
	if len(e.loops) == 0 {
		return
	}
	w := &watchdog{e: e, stop: make(chan struct{}), done: make(chan struct{})}
	e.watchdog = w
	go w.run()
}

// stopWatchdog stops the watchdog and waits for it to exit.
func (e *Engine) stopWatchdog() {
	if w := e.watchdog; w != nil {
		close(w.stop)
		<-w.done
	}
}

func (w *watchdog) run() {
	defer close(w.done)
	period := func(limit time.Duration) time.Duration {
		if limit <= 0 {
			return time.Second
		}
		return max(limit/2, 1) // a ticker panics on 0 (a limit of 1ns)
	}
	limit := time.Duration(w.e.slow.Load())
	t := time.NewTicker(period(limit))
	defer t.Stop()
	reported := make([]int64, len(w.e.loops)) // the callback start already reported, per loop
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
		}
		if now := time.Duration(w.e.slow.Load()); now != limit {
			limit = now
			t.Reset(period(limit))
		}
		if limit <= 0 {
			continue
		}
		for i, l := range w.e.loops {
			since, d := l.Blocked()
			if d < limit || reported[i] == since {
				continue
			}
			reported[i] = since
			w.e.log.Warn("a handler callback is blocking its loop", "loop", l.ID(), "for", d,
				"stack", string(goroutineStack(l.GoroutineID())))
		}
	}
}

// goroutineStack returns the stack of goroutine id, taken from a dump of
// all goroutines (the runtime offers no narrower way), or nil.
func goroutineStack(id uint64) []byte {
	if id == 0 {
		return nil
	}
	buf := make([]byte, 64<<10)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		if len(buf) >= 16<<20 {
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	head := []byte("goroutine " + strconv.FormatUint(id, 10) + " [")
	i := bytes.Index(buf, head)
	if i < 0 {
		return nil
	}
	s := buf[i:]
	if j := bytes.Index(s, []byte("\n\n")); j >= 0 {
		s = s[:j]
	}
	return s
}
