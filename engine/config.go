package engine

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/pinion-net/pinion/internal/loop"
)

// Balance says how accepted connections are spread over the loops.
type Balance uint8

const (
	// BalanceDefault is ReusePort on Linux and RoundRobin elsewhere.
	BalanceDefault Balance = iota
	// ReusePort gives every loop its own SO_REUSEPORT listening socket per
	// address; the kernel spreads connections by hashing the 4-tuple.
	ReusePort
	// RoundRobin accepts on one socket per address and hands the
	// connections to the loops in turn.
	RoundRobin
	// LeastConn accepts on one socket per address and hands each
	// connection to the loop with the fewest.
	LeastConn
)

// ParseBalance parses "reuseport", "roundrobin" or "leastconn".
func ParseBalance(s string) (Balance, error) {
	switch s {
	case "", "default":
		return BalanceDefault, nil
	case "reuseport":
		return ReusePort, nil
	case "roundrobin":
		return RoundRobin, nil
	case "leastconn":
		return LeastConn, nil
	}
	return 0, fmt.Errorf("engine: unknown load balancing %q (want reuseport, roundrobin or leastconn)", s)
}

func (b Balance) String() string {
	switch b {
	case ReusePort:
		return "reuseport"
	case RoundRobin:
		return "roundrobin"
	case LeastConn:
		return "leastconn"
	}
	return "default"
}

// Pinning says whether loop threads are pinned to CPUs.
type Pinning uint8

const (
	// PinDefault pins on Linux.
	PinDefault Pinning = iota
	PinOn
	PinOff
)

// Config configures an engine. The zero value of a field means its default,
// chosen to be safe on the internet; durations that can be switched off
// take a negative value for "off".
type Config struct {
	// Addrs are the listening addresses: "tcp://host:port",
	// "tcp4://...", "tcp6://[::1]:port", "unix:///path" or a bare
	// "host:port". Port 0 picks a free port (see Engine.Addrs). An engine
	// with no address only dials.
	Addrs []string
	// Listeners are already-open listening sockets to serve on as well,
	// after Addrs: inherited from systemd (SystemdListeners) or handed
	// over by another process. The engine serves on duplicates; each
	// File stays the caller's to close (see Listener).
	Listeners []Listener
	// Loops is the number of event loops; default runtime.GOMAXPROCS(0).
	Loops int
	// Balance spreads accepted connections; default ReusePort on Linux,
	// RoundRobin elsewhere. Unix sockets always use an acceptor.
	Balance Balance
	// Pin pins loop i's thread to the i-th CPU the process may use (Linux).
	Pin Pinning
	// CPUs are the CPUs loop threads are pinned to, loop i to
	// CPUs[i % len(CPUs)]; default: every CPU the process may use, in
	// order. Two engines in one process should get disjoint sets, or both
	// pin their loop 0 to the same CPU.
	CPUs []int
	// MaxConns bounds accepted connections over all loops; beyond it a
	// new connection is accepted and closed at once. Default 10,000;
	// negative: no bound (the fd limit still applies).
	MaxConns int
	// Backlog of each listening socket; default the OS maximum.
	Backlog int

	// ReadBufferSize is each loop's read buffer; default 64 KiB.
	ReadBufferSize int
	// ReadBudget bounds the bytes read from one connection per readiness
	// event, so one busy peer cannot starve the others; default
	// 4 × ReadBufferSize.
	ReadBudget int
	// TaskBudget bounds the posted tasks (AsyncWrite, Post, offload
	// replies, ...) a loop runs per tick; default 1024.
	TaskBudget int
	// AcceptBudget bounds the connections a loop accepts per listener
	// event; default 64.
	AcceptBudget int
	// MaxInbound bounds the input a handler may leave unconsumed on one
	// connection (the largest frame it waits for); past it the
	// connection is closed with ErrInboundOverflow. Default 1 MiB.
	MaxInbound int
	// WriteLow and WriteHigh are the outbound watermarks: above WriteHigh
	// owed bytes a connection is no longer read, and Conn.Saturated tells
	// its handler to stop serving the input it has, until they fall to
	// WriteLow. Defaults 64 KiB and 256 KiB.
	WriteLow, WriteHigh int
	// WriteMax is the hard cap of owed bytes per connection; a write past
	// it closes the connection with ErrOutboundOverflow. A handler
	// that honours Conn.Saturated stays under WriteHigh plus what one
	// OnData writes after its last check, so WriteMax must exceed that.
	// Default 4 MiB.
	WriteMax int
	// MaxFreeIOs bounds the connection I/O states each loop keeps for
	// reuse. A connection holds one (64 bytes: its unconsumed input,
	// owed bytes and write completions) only while bytes pass, and gives
	// it back to its loop when it goes idle; the loop keeps this many
	// free ones, so that as many connections may be busy at once without
	// an allocation per write, and drops the rest to the collector.
	// Default 1,024 (64 KiB per loop).
	MaxFreeIOs int

	// IdleTimeout closes connections that moved no byte for this long;
	// default 2 minutes.
	IdleTimeout time.Duration
	// WriteTimeout closes connections whose owed bytes made no progress
	// for this long; default 1 minute.
	WriteTimeout time.Duration
	// LingerTimeout bounds how long a graceful close waits for the peer's
	// FIN after ours; default 2s.
	LingerTimeout time.Duration
	// DialTimeout bounds Dial; default 10s.
	DialTimeout time.Duration
	// TickInterval is the period of Handler.OnTick on each loop; 0: never.
	TickInterval time.Duration
	// SlowCallback is the callback duration counted and logged as
	// blocking the loop; default 100ms.
	SlowCallback time.Duration
	// StatsInterval is how often a busy loop publishes its counters for
	// Stats; default 1ms. A loop waiting for events publishes them when
	// Stats asks, so figures read while the engine is idle are exact, and
	// a tick in which connections came or went or a callback panicked
	// publishes at its end, so those counts lag by at most one tick.
	StatsInterval time.Duration
	// AcceptBackoffMax is the longest pause of a listener after EMFILE or
	// ENFILE (it starts at 5ms and doubles); default 500ms.
	AcceptBackoffMax time.Duration
	// TCPDelay leaves Nagle's algorithm on (by default TCP_NODELAY is set).
	TCPDelay bool

	// IO is the I/O backend of every loop: IOAuto (default) uses io_uring
	// when this kernel and process allow a ring with what the backend
	// needs, else epoll, and logs which and why; IOEpoll and IOUring
	// force one (IOUring fails Start where the ring cannot be set up).
	// See docs/adr/0010-io-uring-backend.md.
	IO IO
	// RingReleaseAfter is, with the io_uring backend, how long a loop
	// waits idle after receiving before it gives the pages of its
	// receive buffers back to the kernel. A burst of receives leaves the
	// buffers it filled resident: about the bytes received where the
	// kernel consumes buffers incrementally (Linux 6.12), a page per
	// receive before, up to 2 MiB per loop. Giving them back costs page
	// faults when receives resume. Default 100ms; negative: never; at
	// least MinRingReleaseAfter.
	RingReleaseAfter time.Duration

	// OffloadWorkers is the number of offload pool workers; default
	// 4 × GOMAXPROCS, at least 8 and at most 256 (see docs/tuning.md).
	// Negative: no pool (Conn.Offload returns ErrNoOffload).
	OffloadWorkers int
	// OffloadQueue bounds the tasks waiting for a worker; default
	// 64 × OffloadWorkers.
	OffloadQueue int
	// OffloadPolicy says what Conn.Offload does when the queue is full:
	// OffloadPause (default) or OffloadReject.
	OffloadPolicy OffloadPolicy
	// OffloadPending is how many tasks may wait behind a connection's
	// running one before that counts as a full pool; default 16.
	OffloadPending int

	// ProxyProtocol is the PROXY protocol policy of every listener: off by
	// default; see ProxyProtocol and docs/architecture.md.
	ProxyProtocol ProxyProtocol
	// ProxyProtocolByAddr overrides ProxyProtocol for the listeners of
	// some addresses, keyed by their entries in Addrs, spelled the same.
	ProxyProtocolByAddr map[string]ProxyProtocol

	// ShutdownTimeout bounds the graceful part of Run's shutdown; default 10s.
	ShutdownTimeout time.Duration
	// Logger receives the engine's logs; default discards them.
	Logger *slog.Logger
}

// MinRingReleaseAfter is the shortest Config.RingReleaseAfter (1ms): a
// shorter one would give the receive buffers' pages back, and fault them
// in again, at every pause in the traffic. DefaultRingReleaseAfter
// (100ms) and DefaultMaxFreeIOs (1,024) are what zero fields take.
const (
	MinRingReleaseAfter     = loop.MinRingReleaseAfter
	DefaultRingReleaseAfter = loop.DefaultRingReleaseAfter
	DefaultMaxFreeIOs       = loop.DefaultMaxFreeIOs
)

func (c Config) withDefaults() (Config, error) {
	if c.Loops <= 0 {
		c.Loops = runtime.GOMAXPROCS(0)
	}
	if c.Loops > 1024 {
		return c, fmt.Errorf("engine: Loops %d is more than 1024", c.Loops)
	}
	if c.Balance == BalanceDefault {
		c.Balance = RoundRobin
		if runtime.GOOS == "linux" {
			c.Balance = ReusePort
		}
	}
	if c.Pin == PinDefault {
		c.Pin = PinOff
		if runtime.GOOS == "linux" {
			c.Pin = PinOn
		}
	}
	if c.MaxConns == 0 {
		c.MaxConns = 10000
	}
	if c.OffloadWorkers == 0 {
		c.OffloadWorkers = min(max(4*runtime.GOMAXPROCS(0), 8), 256)
	}
	if c.OffloadQueue <= 0 {
		c.OffloadQueue = 64 * max(c.OffloadWorkers, 1)
	}
	dur := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	dur(&c.IdleTimeout, 2*time.Minute)
	dur(&c.WriteTimeout, time.Minute)
	dur(&c.ShutdownTimeout, 10*time.Second)
	dur(&c.SlowCallback, 100*time.Millisecond)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	for _, a := range c.Addrs {
		if err := loop.CheckAddr(a); err != nil {
			return c, fmt.Errorf("engine: %w", err)
		}
	}
	if err := checkListeners(c.Listeners); err != nil {
		return c, err
	}
	if c.WriteLow < 0 || c.WriteHigh < 0 || c.WriteMax < 0 || c.MaxInbound < 0 || c.ReadBufferSize < 0 ||
		c.ReadBudget < 0 || c.TaskBudget < 0 || c.AcceptBudget < 0 || c.MaxFreeIOs < 0 {
		return c, errors.New("engine: buffer sizes, watermarks, budgets and MaxFreeIOs must not be negative")
	}
	if r := c.RingReleaseAfter; r > 0 && r < MinRingReleaseAfter {
		return c, fmt.Errorf("engine: RingReleaseAfter %v is under %v (negative: never release)", r, MinRingReleaseAfter)
	}
	for _, cpu := range c.CPUs {
		if cpu < 0 {
			return c, fmt.Errorf("engine: CPUs holds %d; want CPU numbers >= 0", cpu)
		}
	}
	c.CPUs = append([]int(nil), c.CPUs...)
	return c, nil
}

// off maps the "negative means off" convention to the loop's "0 means off".
func off(d time.Duration) time.Duration { return max(d, 0) }

// OffloadPolicy says what Conn.Offload does when the pool's queue is full.
type OffloadPolicy uint8

// The offload policies.
const (
	// OffloadPause keeps the task and stops reading the connection until
	// the pool has room; it resumes on its own.
	OffloadPause OffloadPolicy = iota
	// OffloadReject returns ErrOffloadFull to the handler at once.
	OffloadReject
)

// loop returns the loop's value of p.
func (p OffloadPolicy) loop() loop.OffloadPolicy {
	if p == OffloadReject {
		return loop.OffloadReject
	}
	return loop.OffloadPause
}

// ParseOffloadPolicy parses "pause" or "reject".
func ParseOffloadPolicy(s string) (OffloadPolicy, error) {
	switch s {
	case "", "pause":
		return OffloadPause, nil
	case "reject":
		return OffloadReject, nil
	}
	return 0, fmt.Errorf("engine: unknown offload policy %q (want pause or reject)", s)
}
