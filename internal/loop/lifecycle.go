package loop

import (
	"runtime/debug"
	"time"
)

// Callbacks never nest for the handler: every call into handler code goes
// through enter and leave, which count how deep the loop is in callbacks.
// A connection that closes while any callback is on the stack (a Write
// past WriteMax, Abort or Close inside OnData, a timer, a posted function)
// is finished at once, fd and buffers released, but its OnClose waits in
// l.closes until the outermost callback has returned. The order of a
// connection's callbacks is documented on Handler.

// pendingClose is an OnClose deferred until the callbacks on the stack
// return.
type pendingClose struct {
	c      *Conn
	reason error
}

// enter marks the start of a callback and returns its start on the loop
// clock. Only the outermost callback is timed and shown to Blocked: a
// nested one is part of it.
func (l *Loop) enter() int64 {
	l.depth++
	if l.depth > 1 {
		return 0
	}
	start := l.clock()
	l.running.Store(start)
	return start
}

// leave ends a callback begun with enter; it must be deferred directly, so
// that it can recover a panic of the callback. The panic is counted,
// logged with its stack, and closes only c (when given and not closed).
// The outermost callback's time is added to HandlerTime and compared with
// Config.SlowCallback; then the OnCloses it deferred run.
func (l *Loop) leave(c *Conn, callback string, start int64) {
	r := recover()
	l.depth--
	if l.depth == 0 {
		l.running.Store(0)
		d := time.Duration(l.clock() - start)
		l.st.callback.Observe(d)
		if l.cfg.SlowCallback > 0 && d >= l.cfg.SlowCallback {
			l.st.SlowCallbacks++
			l.log.Warn("slow callback blocked the loop", "callback", callback, "took", d, "handler", handlerName(l.h))
		}
	}
	if r != nil {
		if l.depth == 0 {
			l.active = nil
			l.view = nil
		}
		l.st.Panics++
		pe := &PanicError{Callback: callback, Value: r, Stack: debug.Stack()}
		l.log.Error("handler panic; closing its connection", "callback", callback, "panic", r, "stack", string(pe.Stack))
		if c != nil && c.state != stateClosed {
			l.abort(c, pe)
		}
	}
	if l.depth == 0 && l.held == 0 && len(l.closes) > 0 {
		l.runCloses()
	}
}

// hold and release bracket loop work that may close connections and run
// completions, so that OnClose follows the completions, as it does when
// the connection closes outside any callback. The callbacks inside are
// timed as outermost ones.
func (l *Loop) hold() { l.held++ }

func (l *Loop) release() {
	l.held--
	if l.depth == 0 && l.held == 0 && len(l.closes) > 0 {
		l.runCloses()
	}
}

// closed runs c's OnClose now, or once the callbacks on the stack return.
func (l *Loop) closed(c *Conn, reason error) {
	if l.depth > 0 || l.held > 0 {
		l.closes = append(l.closes, pendingClose{c: c, reason: reason})
		return
	}
	l.callClose(c, reason)
}

// runCloses runs the deferred OnCloses in the order the connections
// closed, including those closed by the OnCloses themselves.
func (l *Loop) runCloses() {
	if l.inCloses {
		return // an OnClose returning: the loop below picks up what it added
	}
	l.inCloses = true
	for i := 0; i < len(l.closes); i++ {
		p := l.closes[i]
		l.closes[i] = pendingClose{}
		l.callClose(p.c, p.reason)
	}
	l.closes = l.closes[:0]
	l.inCloses = false
}
