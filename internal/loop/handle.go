package loop

import (
	"github.com/valyala/bytebufferpool"

	"github.com/pinion-net/pinion/poller"
)

// Handle refers to a connection from any goroutine. It is a small value:
// copy it freely. It names the connection by fd and generation, so a handle
// to a closed connection never reaches a later connection that reuses the
// fd; its operations then report ErrClosed.
//
// Each operation posts a task to the owning loop and wakes it (concurrent
// posts share one wakeup). A method that returns an error did nothing and
// will call nothing back; otherwise its callback, if any, runs exactly once,
// on the loop's goroutine, and must not block.
type Handle struct {
	l   *Loop
	tok poller.Token
}

// Valid reports whether h was obtained from a connection (the zero Handle
// is not valid).
func (h Handle) Valid() bool { return h.l != nil }

// Loop returns the loop owning the connection.
func (h Handle) Loop() *Loop { return h.l }

// AsyncWrite queues p on the connection. done, if not nil, is called once
// with nil after every byte of p was handed to the kernel, or with the
// reason the bytes could not be (ErrClosed, the connection's close reason,
// ErrOutboundOverflow). p must not be modified until done is called (or,
// without done, until the connection closes); the loop copies it when the
// task runs. It returns ErrLoopClosed if the loop has stopped.
func (h Handle) AsyncWrite(p []byte, done func(error)) error {
	return h.l.post(task{kind: taskWrite, tok: h.tok, data: p, done: done})
}

// Close closes the connection gracefully, as Conn.Close.
func (h Handle) Close() error { return h.l.post(task{kind: taskClose, tok: h.tok}) }

// Abort resets the connection, as Conn.Abort with reason ErrClosed.
func (h Handle) Abort() error { return h.l.post(task{kind: taskAbort, tok: h.tok}) }

// Wake makes the loop call OnData for the connection even if no input
// arrived, so the handler can act on state changed elsewhere.
func (h Handle) Wake() error { return h.l.post(task{kind: taskWake, tok: h.tok}) }

// Post runs fn on the loop with the connection, or with (nil, ErrClosed) if
// it is no longer open.
func (h Handle) Post(fn func(c *Conn, err error)) error {
	return h.l.post(task{kind: taskConn, tok: h.tok, cfn: fn})
}

// Post runs fn on the loop's goroutine. Safe from any goroutine; it returns
// ErrLoopClosed if the loop has stopped, and then fn never runs. A
// function accepted runs exactly once: if the loop stops first, during its
// exit, once it owns no connection (Dial then fails with ErrShutdown).
func (l *Loop) Post(fn func()) error { return l.post(task{kind: taskFunc, fn: fn}) }

type taskKind uint8

const (
	taskFunc taskKind = iota
	taskConn
	taskWrite
	taskClose
	taskAbort
	taskWake
	taskAdopt
	taskDrain
	taskAbortAll
	taskStopAccepting
	taskQuiesce
	taskOffloadDone
	taskOffloadRetry
	taskSessionWrite
	taskDial // fn dials; done(err) fails it when it cannot run
)

type task struct {
	kind taskKind
	tok  poller.Token
	fd   int
	data []byte
	done func(error)
	cfn  func(*Conn, error)
	fn   func()

	reply *bytebufferpool.ByteBuffer // taskOffloadDone
	err   error                      // taskOffloadDone
	skip  bool                       // taskOffloadDone: never started, counted in offSkipped
}

func (l *Loop) post(t task) error {
	if !l.mb.push(t) {
		return ErrLoopClosed
	}
	if err := l.wake(); err != nil {
		l.log.Error("poller wake failed", "err", err)
	}
	return nil
}

// runTasks runs posted tasks up to the budget and reports whether any ran.
// It publishes the tallies first: a goroutine that posted a function and
// heard back from it then reads Stats no older than the tick before, as
// it did when every tick published (ADR 0019). Data-path ticks seldom run
// tasks, so this costs them nothing.
func (l *Loop) runTasks() bool {
	ts := l.mb.take()
	if ts == nil {
		return false
	}
	if l.pubDirty {
		l.publish()
	}
	n := min(len(ts), l.cfg.TaskBudget)
	for i := range n {
		l.runTask(&ts[i])
	}
	// Once for the batch: a thousand AsyncWrites to one connection cost
	// one write system call, as a thousand Writes in one callback do.
	l.flushDirty()
	l.st.Tasks += uint64(n)
	l.st.Wakeups++
	l.mb.giveBack(ts, ts[n:])
	return true
}

func (l *Loop) runTask(t *task) {
	switch t.kind {
	case taskFunc:
		l.runFunc(t.fn)
	case taskDial:
		l.hold()
		t.fn()
		l.release()
	case taskAdopt:
		l.adopt(t.fd)
	case taskDrain:
		l.drain()
	case taskAbortAll:
		l.abortAll()
	case taskStopAccepting:
		l.closeListeners()
		if t.fn != nil {
			l.whenListenersClosed(t.fn)
		}
	case taskQuiesce:
		l.quiesce(t.fn)
	case taskOffloadDone:
		l.hold()
		l.offloadDone(t)
		l.release()
	case taskOffloadRetry:
		l.retryOffload()
	default:
		// Held: a write that closes the connection completes before
		// its OnClose runs.
		l.hold()
		l.runConnTask(t)
		l.release()
	}
}

func (l *Loop) runConnTask(t *task) {
	c := l.lookup(t.tok)
	if c == nil || (c.state != stateOpen && c.state != stateConnecting && t.kind != taskAbort &&
		(t.kind != taskSessionWrite || c.state != stateClosing)) {
		l.failTask(*t)
		return
	}
	switch t.kind {
	case taskConn:
		l.callConnFunc(c, t.cfn)
	case taskWrite:
		if _, err := c.Write(t.data); err != nil {
			if t.done != nil {
				l.callDone(c, t.done, err)
			}
			return
		}
		if t.done != nil {
			l.outOf(c).OnFlushed(t.done)
			// An empty write queued nothing, so nothing else would
			// flush c and hand out its completion.
			l.markDirty(c)
		}
		l.flushIfHigh(c)
	case taskSessionWrite:
		// Owed by a running session: allowed while the connection closes
		// (after the peer's FIN), unlike AsyncWrite.
		if err := l.queueOut(c, t.data); err != nil {
			l.callDone(c, t.done, err)
			return
		}
		l.outOf(c).OnFlushed(t.done)
		l.flushIfHigh(c)
	case taskClose:
		l.close(c, nil)
	case taskAbort:
		l.abort(c, ErrClosed)
	case taskWake:
		if c.state == stateOpen {
			l.deliver(c, nil)
		}
	}
}

// flushIfHigh flushes c now, within a batch of tasks, once its owed bytes
// pass the high watermark: a batch of large writes would otherwise pile up
// to the hard cap before the batch's single flush.
func (l *Loop) flushIfHigh(c *Conn) {
	if c.state != stateClosed && c.state != stateConnecting && c.outq().Len() > l.cfg.WriteHigh {
		l.flush(c)
	}
}

// failTask completes a task that cannot run, so every callback still runs
// exactly once.
func (l *Loop) failTask(t task) {
	switch t.kind {
	case taskWrite, taskSessionWrite:
		if t.done != nil {
			l.callDone(nil, t.done, ErrClosed)
		}
	case taskConn:
		l.callConnFunc(nil, t.cfn)
	case taskFunc:
		// Accepted before the loop stopped: it runs, on the loop's
		// goroutine, now that the loop owns no connection.
		l.runFunc(t.fn)
	case taskDial:
		l.callDialDone(nil, t.done, ErrLoopClosed)
	case taskAdopt:
		_ = sysClose(t.fd)
		l.cfg.Limit.release()
	case taskStopAccepting, taskQuiesce:
		if t.fn != nil {
			t.fn()
		}
	case taskOffloadDone:
		l.replies.Put(t.reply)
		if !t.skip {
			l.st.OffloadLate++
		}
	}
}

func (l *Loop) callConnFunc(c *Conn, fn func(*Conn, error)) {
	defer l.leave(c, "posted function", l.enter())
	if c == nil {
		fn(nil, ErrClosed)
		return
	}
	fn(c, nil)
}

func (l *Loop) runFunc(fn func()) {
	defer l.leave(nil, "posted function", l.enter())
	fn()
}

// Drain asks the loop to stop accepting, close every connection gracefully
// (owed bytes flushed, then FIN) and return from Run once none is left.
// Safe from any goroutine.
func (l *Loop) Drain() error { return l.post(task{kind: taskDrain}) }

// Abort asks the loop to close every connection now and return from Run.
// Safe from any goroutine.
func (l *Loop) Abort() error { return l.post(task{kind: taskAbortAll}) }

// StopAccepting asks the loop to close its listeners; done (if not nil)
// runs on the loop once they have stopped listening, so that a connect
// made after it is refused (with io_uring, when the ring's close has
// completed), or at once if the loop has stopped. Safe from any
// goroutine.
func (l *Loop) StopAccepting(done func()) {
	if err := l.post(task{kind: taskStopAccepting, fn: done}); err != nil && done != nil {
		done()
	}
}

func (l *Loop) drain() {
	l.closeListeners()
	l.draining = true
	for c := range l.conns.owned(l) {
		if c.state != stateClosed {
			l.close(c, ErrShutdown)
		}
	}
	l.flushDirty()
	if l.nconns == 0 {
		l.stop = true
	}
}

func (l *Loop) abortAll() {
	l.offCancel()
	l.closeListeners()
	// Cancel every task first: a worker freed by one connection's
	// cancelled task must not start the queued task of the next.
	for c := range l.conns.owned(l) {
		if c.off() != nil {
			c.off().cancel()
		}
	}
	for c := range l.conns.owned(l) {
		if c.state != stateClosed {
			l.closeNow(c, ErrShutdown)
		}
	}
	l.stop = true
}
