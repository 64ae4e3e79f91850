package loop

import (
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
)

// Config is the configuration of one loop. The engine fills it from its own
// Config; a zero field takes the default named in its comment.
type Config struct {
	ID      int          // loop number, used in logs and Stats
	Handler Handler      // required
	Logger  *slog.Logger // default: discard

	ReadBufferSize int // the loop's read buffer; default 64 KiB
	ReadBudget     int // bytes read from one connection per event; default 4 × ReadBufferSize
	MaxInbound     int // unconsumed input kept per connection; default 1 MiB
	WriteLow       int // resume reading below this many owed bytes; default 64 KiB
	WriteHigh      int // stop reading above this many owed bytes; default 256 KiB
	WriteMax       int // close a connection whose owed bytes would pass this; default 4 MiB
	ChunkSize      int // outbound chunk size; default 16 KiB
	MaxFreeChunks  int // free outbound chunks kept by the loop; default 256
	MaxFreeIOs     int // free connection I/O states kept by the loop (64 bytes each, see connIO); default 1024

	IdleTimeout   time.Duration // close after no byte moved for this long; 0: never
	WriteTimeout  time.Duration // close when owed bytes make no progress for this long; 0: never
	LingerTimeout time.Duration // how long Close waits for the peer's FIN; default 2s, negative: no lingering
	DialTimeout   time.Duration // default 10s
	TickInterval  time.Duration // period of Handler.OnTick; 0: never
	SlowCallback  time.Duration // callbacks slower than this are counted and logged; default 100ms, negative: off

	// StatsInterval is how often a busy loop publishes its counters for
	// Stats: at the end of the first tick this long after the last
	// publication; default 1ms, negative: every tick. A tick in which
	// connections came or went or a callback panicked publishes at its
	// end (connEvents). A waiting loop publishes when Stats asks
	// (docs/adr/0019-stats-publication-interval.md).
	StatsInterval time.Duration

	TaskBudget       int           // posted tasks run per tick; default 1024
	AcceptBudget     int           // connections accepted per listener event; default 64
	AcceptBackoffMin time.Duration // first pause after EMFILE; default 5ms
	AcceptBackoffMax time.Duration // longest pause after EMFILE; default 500ms
	NoDelay          bool          // set TCP_NODELAY on TCP connections

	// IO is the I/O backend: IOEpoll (the zero value: readiness through
	// the poller) or IOUring (completions through one io_uring per loop;
	// Run fails through Started when the ring cannot be set up). The
	// engine resolves its "auto" before creating loops. See io.go.
	IO IOMode
	// Ring sizes the io_uring of an IOUring loop (entries, provided
	// receive buffers and their size) and says when it gives idle
	// buffers' pages back; see RingConfig for the defaults.
	Ring RingConfig

	// Conns, when set, is the fd table shared with the other loops of
	// an engine (conntable.go); nil: the loop makes its own.
	Conns *ConnTable

	// Limit, when set, bounds the accepted connections of every loop
	// sharing it.
	Limit *Limit

	// Offload runs Conn.Offload tasks; nil: Offload returns ErrNoOffload.
	Offload Executor
	// OffloadPolicy decides what Offload does when the pool is full.
	OffloadPolicy OffloadPolicy
	// OffloadPending is how many tasks may wait behind a connection's
	// running one before that counts as a full pool; default 16.
	OffloadPending int
}

// Limit counts connections against a maximum shared by several loops.
type Limit struct {
	max atomic.Int64
	n   atomic.Int64
}

// NewLimit returns a limit of max connections; max <= 0 means no limit.
func NewLimit(max int) *Limit {
	l := &Limit{}
	l.max.Store(int64(max))
	return l
}

// SetMax changes the maximum; max <= 0 means no limit. Connections open
// beyond a lowered maximum stay open; new ones are refused until enough
// have closed. Safe from any goroutine.
func (l *Limit) SetMax(max int) { l.max.Store(int64(max)) }

// Max returns the maximum; 0 or negative means no limit.
func (l *Limit) Max() int { return int(l.max.Load()) }

// Open reports how many connections hold the limit now.
func (l *Limit) Open() int64 { return l.n.Load() }

func (l *Limit) acquire() bool {
	if l == nil {
		return true
	}
	if m := l.max.Load(); l.n.Add(1) > m && m > 0 {
		l.n.Add(-1)
		return false
	}
	return true
}

func (l *Limit) release() {
	if l != nil {
		l.n.Add(-1)
	}
}

func (c Config) withDefaults() (Config, error) {
	if c.Handler == nil {
		return c, errors.New("loop: Config.Handler is nil")
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.ReadBufferSize, 64<<10)
	def(&c.ReadBudget, 4*c.ReadBufferSize)
	def(&c.MaxInbound, 1<<20)
	def(&c.WriteLow, 64<<10)
	def(&c.WriteHigh, 256<<10)
	def(&c.WriteMax, 4<<20)
	def(&c.ChunkSize, 16<<10)
	def(&c.MaxFreeChunks, 256)
	def(&c.MaxFreeIOs, DefaultMaxFreeIOs)
	def(&c.TaskBudget, 1024)
	def(&c.AcceptBudget, 64)
	def(&c.OffloadPending, 16)
	defDur(&c.LingerTimeout, 2*time.Second)
	defDur(&c.DialTimeout, 10*time.Second)
	defDur(&c.SlowCallback, 100*time.Millisecond)
	defDur(&c.StatsInterval, time.Millisecond)
	defDur(&c.AcceptBackoffMin, 5*time.Millisecond)
	defDur(&c.AcceptBackoffMax, 500*time.Millisecond)
	defDur(&c.Ring.ReleaseAfter, DefaultRingReleaseAfter)
	if c.WriteLow > c.WriteHigh || c.WriteHigh > c.WriteMax {
		return c, fmt.Errorf("loop: watermarks must satisfy WriteLow (%d) <= WriteHigh (%d) <= WriteMax (%d)",
			c.WriteLow, c.WriteHigh, c.WriteMax)
	}
	if c.MaxInbound > 1<<30 {
		// Conn keeps its consumed prefix in 32 bits.
		return c, fmt.Errorf("loop: MaxInbound (%d) is more than 1 GiB", c.MaxInbound)
	}
	if r := c.Ring.ReleaseAfter; r > 0 && r < MinRingReleaseAfter {
		return c, fmt.Errorf("loop: Ring.ReleaseAfter (%v) is under %v: the receive buffers' pages would be given back, and faulted in again, at every pause", r, MinRingReleaseAfter)
	}
	if c.AcceptBackoffMin > c.AcceptBackoffMax {
		return c, fmt.Errorf("loop: AcceptBackoffMin (%v) > AcceptBackoffMax (%v)", c.AcceptBackoffMin, c.AcceptBackoffMax)
	}
	return c, nil
}
