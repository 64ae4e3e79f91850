//go:build linux && (amd64 || arm64)

package uring

import (
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// loadAcquire and storeRelease are the two orderings the rings need: the
// kernel publishes a tail after writing the entries before it, and reads
// entries only up to the tail we publish. Go's atomics are sequentially
// consistent, which is at least that.
func loadAcquire(p *uint32) uint32     { return atomic.LoadUint32(p) }
func storeRelease(p *uint32, v uint32) { atomic.StoreUint32(p, v) }

// Reap moves up to len(dst) ready completions into dst and returns how many.
// It never blocks. The ring's own completions (the wakeup) are handled here
// and not returned; after a wakeup the caller must look at its cross-goroutine
// work, which it does after every Reap anyway. Owner only.
func (r *Ring) Reap(dst []CQE) int {
	if r.closed {
		return 0
	}
	n := 0
	head := *r.cqHeadPtr
	tail := loadAcquire(r.cqTailPtr)
	for ; head != tail && n < len(dst); head++ {
		c := &r.cqes[head&r.cqMask]
		tok := Token(c.userData)
		if tok.Op() == opWake {
			r.woken(c.res)
			continue
		}
		if tok.Op() == OpRecv && c.res == -int32(unix.ENOBUFS) {
			r.stats.NoBuffers++
			r.bufs.grow()
		}
		dst[n] = CQE{Token: tok, Res: c.res, Flags: c.flags}
		if c.flags&FlagBuffer != 0 {
			dst[n].off = r.bufs.take(uint16(c.flags>>cqeBufferShift), c.res, c.flags)
		}
		n++
	}
	storeRelease(r.cqHeadPtr, head)
	r.stats.Completions += uint64(n)
	return n
}

// addrOfU64 returns the address of a word in mmap'd scratch as a number for a
// submission entry.
func addrOfU64(p *uint64) uint64 { return uint64(uintptr(unsafe.Pointer(p))) }
