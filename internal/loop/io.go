package loop

import (
	"fmt"
	"time"

	"github.com/pinion-net/pinion/poller"
)

// IOMode is the I/O backend of a loop (docs/adr/0010-io-uring-backend.md).
//
// With IOEpoll the loop waits for readiness and makes the system calls
// itself (read until a short read, write at once). With IOUring it owns one
// io_uring, created on its own locked thread when Run starts: multishot
// accept on its listeners, multishot receive into a provided-buffer ring
// shared by its connections, writes at once with what a full socket does
// not take in one gathered send through the ring (at most one in flight per
// connection), closes through the ring, the wakeup as an eventfd read, timers
// as the wait's timeout; one io_uring_enter per tick submits what the last
// tick queued and collects what completed. Handlers see no difference.
type IOMode uint8

const (
	IOEpoll IOMode = iota // readiness: the poller (epoll, kqueue)
	IOUring               // completions: io_uring (Linux)
)

// String returns "epoll" or "uring".
func (m IOMode) String() string {
	switch m {
	case IOEpoll:
		return "epoll"
	case IOUring:
		return "uring"
	}
	return fmt.Sprintf("io(%d)", uint8(m))
}

// MinRingReleaseAfter is the shortest RingConfig.ReleaseAfter, and
// DefaultRingReleaseAfter its default.
const (
	MinRingReleaseAfter     = time.Millisecond
	DefaultRingReleaseAfter = 100 * time.Millisecond
)

// DefaultMaxFreeIOs is Config.MaxFreeIOs' default.
const DefaultMaxFreeIOs = 1024

// ringMaxIov is how many segments one gathered send takes.
const ringMaxIov = 64

// ringFirstChunk is the size of the chunk that starts an outbound chain
// on the io_uring backend when the first write fits (buffer.Pool's
// SetFirstChunk). A send keeps its chunks until its completion, a tick
// later, so a burst of short replies (thousands of connections answered
// at once) would otherwise hold, and touch, a 16 KiB chunk each.
const ringFirstChunk = 512

// ringReap is how many completions one tick handles at most (the
// poller's maxEvents counts events, each worth several completions), and
// ringBatch how many items of deferred completion work a busy tick's enter
// asks the kernel to run. The completion ring holds 16 × Entries, so that
// a tick's work fits without overflowing into the kernel's slow list.
const (
	ringReap  = 1024
	ringBatch = 512
	// ringBacklog: a busy tick asks for the batch only after a tick that
	// reaped this many or more; the batch is a zero-timeout wait, which
	// costs more than a plain enter when there is little to run.
	ringBacklog = 64
)

// entries returns the submission ring's size, 1024 by default.
func (c RingConfig) entries() uint32 {
	if c.Entries == 0 {
		return 1024
	}
	return c.Entries
}

// RingConfig sizes a loop's io_uring; zero sizes take internal/uring's
// defaults (512 buffers of 4 KiB).
type RingConfig struct {
	Entries    uint32 // submission entries, default 1024 (completions: 16×)
	Buffers    uint32 // provided receive buffers, a power of two
	BufferSize uint32 // bytes each

	// ReleaseAfter is how long the loop waits idle, after receives,
	// before it gives the pages of its receive buffers back to the
	// kernel (madvise): a burst of receives leaves the buffers it filled
	// resident (about the bytes received with incremental consumption, a
	// page per receive without, up to Buffers × BufferSize), which an
	// idle loop need not keep. Default 100ms; negative: never; at least
	// MinRingReleaseAfter, since every release makes the next receives
	// fault their pages in again.
	ReleaseAfter time.Duration

	// WholeBuffers makes every receive take a whole provided buffer, as
	// on kernels before 6.12, instead of only the bytes it fills (see
	// uring.Config.WholeBuffers). Tests only.
	WholeBuffers bool

	// ForceUnavailable makes the ring's setup fail as if the kernel
	// refused it, so that fallbacks can be tested on a kernel that has
	// io_uring. Tests only.
	ForceUnavailable bool
}

// Started delivers, once, nil when Run has set the loop's I/O up, or the
// error that stopped it (an IOUring loop whose ring cannot be set up); Run
// then returns without serving. The channel is buffered: nobody has to
// read it.
func (l *Loop) Started() <-chan error { return l.started }

// IO returns the loop's backend. Safe from any goroutine.
func (l *Loop) IO() IOMode { return l.cfg.IO }

// wait is step 2 of the tick: the poller's wait, or the ring's one enter.
func (l *Loop) wait(timeout time.Duration) (int, error) {
	l.waits++
	if l.ring != nil {
		return l.ring.wait(timeout)
	}
	return l.p.Wait(l.events, timeout)
}

// dispatchAll is step 3 of the tick for n events or completions.
func (l *Loop) dispatchAll(n int) {
	if l.ring != nil {
		l.ringDispatch(n)
		return
	}
	for i := range n {
		l.dispatch(l.events[i])
	}
	if n == len(l.events) && len(l.events) < maxEvents {
		l.events = make([]poller.Event, 2*len(l.events))
	}
}

// wake rings the loop's doorbell from any goroutine.
func (l *Loop) wake() error {
	if w := l.waker.Load(); w != nil {
		return w.Wake()
	}
	return l.p.Wake()
}
