package loop

import (
	"iter"
	"sync"
	"sync/atomic"
)

// ConnTable maps file descriptors to connections for the loops that share
// it: an engine gives its loops one (docs/adr/0018-shared-conn-table.md).
// File descriptors are unique in a process, so the connections of several
// loops never want the same slot at once; one table costs 8 bytes per
// descriptor number however many loops there are, where a table per loop
// would span every loop's descriptors.
//
// Ownership: a slot holding connection c is written only by c's loop, which
// stores c when it registers it and clears the slot (compare-and-swap, so
// never another loop's newer entry) when it finishes it, before or while
// its fd is closed. A loop reads any slot but uses what it finds only when
// it is one of its own (c.loop == l): a stale event for a closed fd whose
// number another loop has reused finds that loop's connection and is
// dropped. c.loop and c.gen are set before the slot is stored and never
// change, so reading them from another goroutine is race-free; nothing else
// of another loop's connection is read.
//
// Storage is blocks of connBlockLen slots, made when a descriptor of their
// range first registers and never moved, so growing copies no slot and
// leaves no garbage. The directory of blocks is copied on write, under mu,
// and read with one atomic load.
type ConnTable struct {
	mu  sync.Mutex // serialises new blocks (and so new directories)
	dir atomic.Pointer[[]*connBlock]
}

const (
	connBlockShift = 10
	connBlockLen   = 1 << connBlockShift // 8 KiB of slots
)

type connBlock [connBlockLen]atomic.Pointer[Conn]

// NewConnTable returns an empty table for loops to share through
// Config.Conns.
func NewConnTable() *ConnTable { return &ConnTable{} }

// get returns the connection in fd's slot, of whichever loop, or nil.
func (t *ConnTable) get(fd int) *Conn {
	d := t.dir.Load()
	if d == nil {
		return nil
	}
	i := uint(fd) >> connBlockShift // a negative fd is huge: out of range
	if i >= uint(len(*d)) {
		return nil
	}
	b := (*d)[i]
	if b == nil {
		return nil
	}
	return b[fd&(connBlockLen-1)].Load()
}

// set stores c in its fd's slot, making the block when needed.
func (t *ConnTable) set(c *Conn) {
	fd := int(c.fd)
	t.block(fd)[fd&(connBlockLen-1)].Store(c)
}

// clear empties c's slot if it still holds c.
func (t *ConnTable) clear(c *Conn) {
	if b := t.blockOf(int(c.fd)); b != nil {
		b[int(c.fd)&(connBlockLen-1)].CompareAndSwap(c, nil)
	}
}

func (t *ConnTable) blockOf(fd int) *connBlock {
	d := t.dir.Load()
	if d == nil || uint(fd)>>connBlockShift >= uint(len(*d)) {
		return nil
	}
	return (*d)[fd>>connBlockShift]
}

// block returns fd's block, making it (and a longer directory) under mu.
func (t *ConnTable) block(fd int) *connBlock {
	if b := t.blockOf(fd); b != nil {
		return b
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if b := t.blockOf(fd); b != nil { // made meanwhile by another loop
		return b
	}
	var old []*connBlock
	if d := t.dir.Load(); d != nil {
		old = *d
	}
	i := fd >> connBlockShift
	d := make([]*connBlock, max(len(old), i+1))
	copy(d, old)
	d[i] = new(connBlock)
	t.dir.Store(&d)
	return d[i]
}

// owned yields the connections of l in the table, in fd order. The loop
// may finish the connection it is given.
func (t *ConnTable) owned(l *Loop) iter.Seq[*Conn] {
	return func(yield func(*Conn) bool) {
		d := t.dir.Load()
		if d == nil {
			return
		}
		for _, b := range *d {
			if b == nil {
				continue
			}
			for i := range b {
				if c := b[i].Load(); c != nil && c.loop == l && !yield(c) {
					return
				}
			}
		}
	}
}
