package loop

import (
	"context"
	"errors"
	"io"
	"runtime/debug"

	"github.com/pinion-net/pinion/poller"
)

// Executor runs functions away from the loops: the engine's offload pool.
// TrySubmit must never block. It returns ErrOffloadFull when it has no room
// now — the loop then waits for RetryOffload — and any other error when it
// will take no more work.
type Executor interface {
	TrySubmit(fn func()) error
}

// Errors of Offload.
var (
	// ErrOffloadFull is returned by Offload under OffloadReject when the
	// pool (or the connection's own queue of tasks) is full: nothing was
	// queued, and the handler may answer "busy".
	ErrOffloadFull = errors.New("loop: offload queue full")
	// ErrNoOffload is returned by Offload when the loop has no Executor.
	ErrNoOffload = errors.New("loop: no offload pool configured")
)

// OffloadPolicy says what Offload does when the pool is full.
type OffloadPolicy uint8

const (
	// OffloadPause queues the task on the connection and stops reading it
	// until the pool has room; it resumes on its own.
	OffloadPause OffloadPolicy = iota
	// OffloadReject returns ErrOffloadFull at once and queues nothing.
	OffloadReject
)

// OffloadFunc is blocking work for one connection, run on a pool worker.
// It writes its reply to w (the bytes are queued on the connection after
// every earlier reply) and returns nil, or an error to close the connection
// once the reply is out. ctx is cancelled when the connection closes or the
// engine stops waiting; a reply produced after that is dropped.
type OffloadFunc func(ctx context.Context, w io.Writer) error

// offState is a connection's offload bookkeeping, created at its first
// Offload. Tasks run one at a time, in order: busy says one is on the pool
// (queued there or running); queue holds the ones behind it.
type offState struct {
	ctx     context.Context
	cancel  context.CancelFunc
	queue   []OffloadFunc
	busy    bool
	waiting bool // in the loop's list of connections waiting for pool room
}

// Offload runs fn on the offload pool for c. Tasks of one connection run
// one at a time and in the order they were offloaded, so their replies are
// written in order. When the pool is full, Config.OffloadPolicy decides:
// OffloadPause (the default) keeps the task and stops reading c until the
// pool has room; OffloadReject returns ErrOffloadFull and keeps nothing.
// More than Config.OffloadPending tasks waiting behind a running one are
// treated as a full pool. Loop-only.
func (c *Conn) Offload(fn OffloadFunc) error {
	l := c.loop
	if l.cfg.Offload == nil {
		return ErrNoOffload
	}
	if c.state != stateOpen {
		return ErrClosed
	}
	o := l.offState(c)
	if o.busy || len(o.queue) > 0 {
		if len(o.queue) >= l.cfg.OffloadPending {
			if l.cfg.OffloadPolicy == OffloadReject {
				l.st.OffloadRejected++
				return ErrOffloadFull
			}
		}
		o.queue = append(o.queue, fn)
		if len(o.queue) >= l.cfg.OffloadPending {
			l.pauseForOffload(c)
		}
		return nil
	}
	switch err := l.submit(c, o, fn); {
	case err == nil:
		return nil
	case errors.Is(err, ErrOffloadFull) && l.cfg.OffloadPolicy == OffloadReject:
		l.st.OffloadRejected++
		return ErrOffloadFull
	case errors.Is(err, ErrOffloadFull):
		o.queue = append(o.queue, fn)
		l.waitForRoom(c, o)
		return nil
	default:
		return err
	}
}

// OffloadBusy reports whether c has offloaded tasks queued or running.
func (c *Conn) OffloadBusy() bool {
	o := c.off()
	return o != nil && (o.busy || len(o.queue) > 0)
}

func (c *Conn) off() *offState {
	if c.ext == nil {
		return nil
	}
	return c.ext.off
}

func (l *Loop) offState(c *Conn) *offState {
	x := c.extra()
	if x.off == nil {
		ctx, cancel := context.WithCancel(l.offCtx)
		x.off = &offState{ctx: ctx, cancel: cancel}
	}
	return x.off
}

// submit hands fn to the pool. The job runs fn, then posts the reply back
// to this loop, naming the connection by token so that a reply for a
// connection gone meanwhile can never reach a later one on the same fd.
func (l *Loop) submit(c *Conn, o *offState, fn OffloadFunc) error {
	tok, ctx := c.token(), o.ctx
	err := l.cfg.Offload.TrySubmit(func() { l.runOffload(tok, ctx, fn) })
	if err != nil {
		return err
	}
	o.busy = true
	return nil
}

// runOffload runs on a pool worker. A task whose connection closed while
// it waited in the pool's queue never starts and is counted as dropped;
// the loop expects nothing back from it (the connection is gone, or gave
// up its tasks in abandonWork).
func (l *Loop) runOffload(tok poller.Token, ctx context.Context, fn OffloadFunc) {
	if ctx.Err() != nil {
		l.offSkipped.Add(1)
		return
	}
	buf := l.replies.Get()
	// A task whose connection closed (or whose loop aborted) while it
	// waited in the pool's queue never starts. The loop's own context is
	// asked too: cancelling it cancels the tasks' contexts one at a time,
	// so a worker freed by the first could otherwise start the next.
	// Such a task is dropped as one whose connection closed is: counted
	// as skipped here, and not as a late reply on the loop.
	err := ctx.Err()
	skip := false
	if err == nil {
		err = l.offCtx.Err()
		if skip = err != nil; skip {
			l.offSkipped.Add(1)
		}
	}
	if err == nil {
		err = callOffload(ctx, fn, buf)
	}
	if l.post(task{kind: taskOffloadDone, tok: tok, reply: buf, err: err, skip: skip}) != nil {
		l.replies.Put(buf) // the loop is gone; so is the connection
	}
}

// callOffload runs fn, turning a panic into a *PanicError.
func callOffload(ctx context.Context, fn OffloadFunc, w io.Writer) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Callback: "offloaded task", Value: r, Stack: debug.Stack()}
		}
	}()
	return fn(ctx, w)
}

// offloadDone runs on the loop when a task finished: write its reply, then
// start the next task of the connection.
func (l *Loop) offloadDone(t *task) {
	buf := t.reply
	defer l.replies.Put(buf)
	c := l.lookup(t.tok)
	var o *offState
	if c != nil {
		o = c.off()
	}
	if o == nil || !o.busy {
		if !t.skip {
			l.st.OffloadLate++
		}
		return
	}
	o.busy = false
	if pe, ok := errors.AsType[*PanicError](t.err); ok {
		l.st.Panics++
		l.st.OffloadPanics++
		l.log.Error("offloaded task panicked; closing its connection", "panic", pe.Value, "stack", string(pe.Stack))
		l.abort(c, pe)
		return
	}
	if err := l.queueOut(c, buf.B); err != nil {
		return
	}
	if t.err != nil {
		o.queue = nil
		reason := t.err
		if reason == errSessionEnd {
			reason = nil
		}
		l.close(c, reason)
		if c.state == stateClosing {
			l.settle(c)
		}
		return
	}
	l.offNext(c, o)
}

// offNext submits the connection's next queued task, and once nothing is
// left, lets a closing connection finish closing.
func (l *Loop) offNext(c *Conn, o *offState) {
	if !o.busy && len(o.queue) > 0 {
		err := l.submit(c, o, o.queue[0])
		switch {
		case err == nil:
			o.queue[0] = nil
			o.queue = o.queue[1:]
			if len(o.queue) == 0 {
				o.queue = nil
			}
		case errors.Is(err, ErrOffloadFull):
			l.waitForRoom(c, o)
			return
		default:
			o.queue = nil
			l.close(c, err)
		}
	}
	if !o.waiting && len(o.queue) < l.cfg.OffloadPending && c.flags&flagOffPaused != 0 {
		c.flags &^= flagOffPaused
		l.st.OffloadPaused--
		l.setInterest(c)
		l.unstall(c)
	}
	if c.state == stateClosing && !c.OffloadBusy() {
		l.settle(c)
	}
}

// pauseForOffload stops reading c while its tasks wait.
func (l *Loop) pauseForOffload(c *Conn) {
	if c.flags&flagOffPaused == 0 {
		c.flags |= flagOffPaused
		l.st.OffloadPauses++
		l.st.OffloadPaused++
		l.setInterest(c)
	}
}

// waitForRoom parks c until the pool says it has room (RetryOffload).
func (l *Loop) waitForRoom(c *Conn, o *offState) {
	l.pauseForOffload(c)
	if !o.waiting {
		o.waiting = true
		l.offWaiters = append(l.offWaiters, c)
		l.st.OffloadWaiting++
	}
}

// RetryOffload tells the loop that the pool has room again. Safe from any
// goroutine; the engine calls it from the pool's OnRoom.
func (l *Loop) RetryOffload() { _ = l.post(task{kind: taskOffloadRetry}) }

// retryOffload resubmits for waiting connections in the order they started
// waiting, until the pool is full again.
func (l *Loop) retryOffload() {
	ws := l.offWaiters
	l.offWaiters = nil
	for i, c := range ws {
		ws[i] = nil
		o := c.off()
		if c.state == stateClosed || o == nil || !o.waiting {
			continue
		}
		o.waiting = false
		l.st.OffloadWaiting--
		l.offNext(c, o)
		if o.waiting { // full again: the rest keep waiting, in order
			l.offWaiters = append(l.offWaiters, ws[i+1:]...)
			clear(ws[i+1:])
			return
		}
	}
}

// releaseOffload cancels a closed connection's tasks: the running one sees
// its context cancelled and its late reply is dropped; queued ones never run.
func (l *Loop) releaseOffload(c *Conn) {
	o := c.off()
	if o == nil {
		return
	}
	o.cancel()
	l.st.OffloadDropped += uint64(len(o.queue))
	o.queue = nil
	if o.waiting {
		o.waiting = false
		l.st.OffloadWaiting--
	}
}
