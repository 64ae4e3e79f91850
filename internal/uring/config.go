package uring

// Mode is the set of setup flags a ring runs with, from the best rung of the
// fallback ladder down.
type Mode uint8

// The rungs of the setup ladder, tried in this order.
const (
	// ModeBest starts the ladder at the top (the zero Config).
	ModeBest Mode = iota
	// ModeDeferTaskrun: IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN
	// (Linux 6.1). Completion work runs only inside the owner's
	// io_uring_enter, never as an interrupt to the loop thread.
	ModeDeferTaskrun
	// ModeSingleIssuer: IORING_SETUP_SINGLE_ISSUER |
	// IORING_SETUP_COOP_TASKRUN (Linux 6.0).
	ModeSingleIssuer
	// ModeCoopTaskrun: IORING_SETUP_COOP_TASKRUN alone (Linux 5.19).
	ModeCoopTaskrun
	// ModePlain: no optional flags.
	ModePlain
)

// String returns the flags of m in words.
func (m Mode) String() string {
	switch m {
	case ModeBest:
		return "best"
	case ModeDeferTaskrun:
		return "single-issuer+defer-taskrun"
	case ModeSingleIssuer:
		return "single-issuer+coop-taskrun"
	case ModeCoopTaskrun:
		return "coop-taskrun"
	case ModePlain:
		return "plain"
	}
	return "mode(?)"
}

// Config sizes a ring. The zero value is usable.
type Config struct {
	// Entries is the number of submission entries, rounded up to a power of
	// two by the kernel (default 256).
	Entries uint32
	// CQEntries is the number of completion entries (default 8×Entries:
	// multishot requests post many completions per submission).
	CQEntries uint32
	// BufferCount is the number of provided receive buffers shared by every
	// receive on the ring; a power of two up to 32768 (default 512).
	BufferCount uint32
	// BufferSize is the size of each provided buffer (default 4096).
	BufferSize uint32
	// WholeBuffers registers the provided buffers without incremental
	// consumption, as on kernels before 6.12, where every receive takes a
	// whole buffer (see Ring.Incremental); by default the ring asks for
	// it and falls back to whole buffers when the kernel refuses.
	WholeBuffers bool
	// MaxIovecs is the most buffers one Sendmsg gathers (default 64).
	MaxIovecs int
	// DirectDescriptors is the size of the ring's direct descriptor table
	// (see Direct); 0 registers none.
	DirectDescriptors uint32
	// Mode starts the setup ladder at this rung instead of the top.
	Mode Mode
	// ForceUnavailable makes New fail with ReasonForced before any system
	// call, so that a caller's fallback to epoll can be tested on a kernel
	// that has io_uring.
	ForceUnavailable bool
}

func (c Config) withDefaults() Config {
	if c.Entries == 0 {
		c.Entries = 256
	}
	if c.CQEntries == 0 {
		c.CQEntries = 8 * c.Entries
	}
	if c.BufferCount == 0 {
		c.BufferCount = 512
	}
	if c.BufferSize == 0 {
		c.BufferSize = 4096
	}
	if c.MaxIovecs == 0 {
		c.MaxIovecs = 64
	}
	return c
}
