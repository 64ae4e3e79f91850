//go:build linux && (amd64 || arm64)

package uring

import (
	"fmt"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// bufGroupID is the buffer group of the ring's one provided-buffer ring.
const bufGroupID = 0

// bufRing is a provided-buffer ring (IORING_REGISTER_PBUF_RING, Linux 5.19):
// an array of buffer descriptors the kernel takes from at the head, which it
// keeps to itself, while we add at the tail, which lives in the resv field of
// descriptor 0. Both the descriptors and the buffers are anonymous mappings.
//
// The kernel takes buffers in ring order, so a ring offering all its
// buffers would cycle through every one of them, and each buffer's first
// page becomes resident the first time a receive lands in it: with 512
// buffers, 2 MiB of RSS after the first 512 receives, however few
// connections are busy at once. So the ring offers at most window buffers
// at a time, the ones used most recently first (free is a stack): a light
// load keeps reusing the same few pages. An enter after which receives
// found no buffer (ENOBUFS) doubles the window once, however many
// receives ran out in it, up to every buffer: the window grows with the
// bytes one enter receives, not with the connections that were busy then.
//
// Where the kernel allows it (IOU_PBUF_RING_INC, Linux 6.12) the ring is
// registered for incremental consumption: a receive takes only the bytes
// it fills, at the buffer's current offset, and the buffer stays at the
// head until it is full, each completion but the last carrying
// FlagBufMore. Small messages from many connections then share a buffer
// instead of taking one each, so a burst of thousands of 64-byte receives
// touches tens of kilobytes instead of every buffer, and the window rarely
// has to grow. The kernel does not say where a piece starts: as the
// io_uring_setup_buf_ring(3) manual specifies, each completion naming a
// buffer continues where the one before it ended, so take mirrors the
// offsets in completion order. A buffer goes back to the ring when the
// kernel is done with it (a completion without FlagBufMore) and every
// completion naming it has been recycled.
type bufRing struct {
	ring    []byte     // the descriptors, count × 16 bytes
	entries []bufEntry // ring as descriptors
	data    []byte     // count × size bytes of buffers, buffer i at i×size
	size    uint32
	mask    uint16
	tail    uint16
	shown   uint16 // the tail the kernel was last shown (publish)
	reg     bool
	inc     bool // registered with IOU_PBUF_RING_INC

	free    []uint16   // buffers not offered, the most recently used last
	state   []bufState // by buffer id
	window  int        // most buffers offered and not yet recycled
	offered int        // buffers offered and not yet recycled (in the ring or being read)
	grown   bool       // the window grew since the last enter
	used    bool       // a receive used a buffer since the last ReleaseBuffers
}

// bufState is what the owner tracks of one offered buffer.
type bufState struct {
	off  uint32 // where the kernel's next receive into it starts
	held uint32 // completions naming it that are not recycled yet
	kept bool   // the kernel still holds it: its last completion had FlagBufMore
}

// bufWindow is how many buffers a ring offers before its first ENOBUFS:
// whole buffers take one per receive, incremental ones one per
// BufferSize bytes received, so fewer do for as many receives.
const (
	bufWindow    = 16
	bufWindowInc = 4
)

// setup maps the descriptors and buffers, fills the ring with a window of
// buffers and registers it with the kernel as group bufGroupID, for
// incremental consumption unless whole is set or the kernel refuses it.
func (b *bufRing) setup(ringFD int, count, size uint32, whole bool) error {
	page := unix.Getpagesize()
	ringBytes := (int(count)*int(unsafe.Sizeof(bufEntry{})) + page - 1) / page * page
	var err error
	if b.ring, err = unix.Mmap(-1, 0, ringBytes, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS); err != nil {
		return &UnavailableError{Reason: ReasonResources, Detail: "mmap buffer ring", Err: err}
	}
	if b.data, err = unix.Mmap(-1, 0, int(count)*int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS); err != nil {
		return &UnavailableError{Reason: ReasonResources, Detail: "mmap receive buffers", Err: err}
	}
	b.entries = unsafe.Slice((*bufEntry)(unsafe.Pointer(&b.ring[0])), count)
	b.size, b.mask = size, uint16(count-1)
	errno := unix.EINVAL
	if !whole {
		errno = b.register(ringFD, count, pbufRingInc)
		b.inc = errno == 0
	}
	if errno == unix.EINVAL {
		// A kernel before 6.12 refuses the flag it does not know.
		errno = b.register(ringFD, count, 0)
	}
	if errno != 0 {
		return &UnavailableError{Reason: ReasonMissingFeature, Detail: "provided-buffer ring (needs Linux 5.19)", Err: errno}
	}
	b.reg = true
	b.window = b.firstWindow()
	b.state = make([]bufState, count)
	b.free = make([]uint16, 0, count)
	for bid := int(count) - 1; bid >= 0; bid-- { // buffer 0 on top
		b.free = append(b.free, uint16(bid))
	}
	b.fill()
	b.publish()
	return nil
}

// firstWindow is how many buffers the ring offers before its first ENOBUFS.
func (b *bufRing) firstWindow() int {
	if b.inc {
		return min(bufWindowInc, len(b.entries))
	}
	return min(bufWindow, len(b.entries))
}

// register asks the kernel to take buffers from the ring as group
// bufGroupID, with the given IOU_PBUF_RING_* flags.
func (b *bufRing) register(ringFD int, count uint32, flags uint16) unix.Errno {
	reg := bufReg{ringAddr: uint64(uintptr(unsafe.Pointer(&b.ring[0]))), ringEntries: count, bgid: bufGroupID, flags: flags}
	_, _, errno := unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(ringFD), registerPBufRing, uintptr(unsafe.Pointer(&reg)), 1, 0, 0)
	return errno
}

// fill offers buffers from the top of free until window are offered. The
// next enter publishes them.
func (b *bufRing) fill() {
	for b.offered < b.window && len(b.free) > 0 {
		last := len(b.free) - 1
		b.put(b.free[last])
		b.free = b.free[:last]
		b.offered++
	}
}

// grow doubles the window after a receive found no buffer, once per
// enter (sysEnter clears grown).
func (b *bufRing) grow() {
	if !b.grown && b.window < len(b.entries) {
		b.grown = true
		b.window = min(2*b.window, len(b.entries))
		b.fill()
	}
}

// bytes returns the n bytes at offset off of buffer bid, capped there: with
// incremental consumption the rest of the buffer may be another
// connection's.
func (b *bufRing) bytes(bid uint16, off uint32, n int) []byte {
	start := int(bid)*int(b.size) + int(off)
	return b.data[start : start+n : start+n]
}

// take accounts for a completion that names buffer bid, in the order the
// kernel posted them, and returns where its res bytes start in the buffer.
func (b *bufRing) take(bid uint16, res int32, flags uint32) uint32 {
	s := &b.state[bid]
	off := s.off
	if res > 0 {
		s.off += uint32(res)
	}
	s.held++
	s.kept = flags&FlagBufMore != 0
	b.used = true
	return off
}

// giveBack gives back what one completion held of buffer bid, and the buffer
// itself once the kernel is done with it and nothing holds it.
func (b *bufRing) giveBack(bid uint16) {
	s := &b.state[bid]
	if s.held == 0 {
		panic("uring: Recycle of a buffer no completion holds (recycled twice?)")
	}
	s.held--
	if s.held == 0 && !s.kept {
		s.off = 0
		b.recycle(bid)
	}
}

// put writes the descriptor of buffer bid at the tail without publishing it.
// It writes addr, len and bid field by field and never resv, which in
// descriptor 0 is the tail.
func (b *bufRing) put(bid uint16) {
	e := &b.entries[b.tail&b.mask]
	e.addr = uint64(uintptr(unsafe.Pointer(&b.data[int(bid)*int(b.size)])))
	e.len = b.size
	e.bid = bid
	b.tail++
}

// publish makes every put buffer visible to the kernel. The tail is a 16-bit
// field and Go has no 16-bit atomic store, so it stores the 32-bit word made
// of descriptor 0's bid and the tail, both written only by us; composing that
// word in memory keeps it right on either byte order.
func (b *bufRing) publish() {
	var w [2]uint16
	w[0], w[1] = b.entries[0].bid, b.tail
	atomic.StoreUint32((*uint32)(unsafe.Pointer(&b.entries[0].bid)), *(*uint32)(unsafe.Pointer(&w)))
	b.shown = b.tail
}

// recycle gives buffer bid back: on top of free, from where fill offers it
// again at once while the window has room (it always has, for a buffer
// that was offered); the next enter publishes it (see Ring.Recycle).
func (b *bufRing) recycle(bid uint16) {
	b.offered--
	b.free = append(b.free, bid)
	b.fill()
}

// unregister tells the kernel to stop selecting from the ring. In the
// single-issuer modes the kernel refuses it (EEXIST) from any thread but the
// owner's.
func (b *bufRing) unregister(ringFD int) error {
	if !b.reg {
		return nil
	}
	reg := bufReg{bgid: bufGroupID}
	_, _, errno := unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(ringFD), unregisterPBufRing, uintptr(unsafe.Pointer(&reg)), 1, 0, 0)
	if errno != 0 {
		return errno
	}
	b.reg = false
	return nil
}

// release unmaps the descriptors and buffers. It does nothing while the ring
// is still registered: the kernel might yet write into the buffers, and an
// unmapped range may be mapped again by the Go runtime.
func (b *bufRing) release() {
	if b.reg {
		return
	}
	if b.ring != nil {
		unix.Munmap(b.ring)
	}
	if b.data != nil {
		unix.Munmap(b.data)
	}
	b.ring, b.data, b.entries = nil, nil, nil
}

// Bytes returns the bytes receive completion e put in its provided buffer,
// or nil when it names none. The slice aliases mmap'd memory the kernel
// will reuse: it is valid until Recycle(e), and must not be used after it.
// Owner only.
func (r *Ring) Bytes(e CQE) []byte {
	bid, ok := e.Buffer()
	if !ok || e.Res <= 0 {
		return nil
	}
	return r.bufs.bytes(bid, e.off, int(e.Res))
}

// Join returns the bytes of receive completions es, pieces of one stream
// in order, as one slice. A receive that fills the rest of a provided
// buffer goes on in the next one the ring offers, in a completion of its
// own; when each piece starts where the one before it ends in memory (the
// next buffer is the adjacent one, or it is the same buffer), the slice
// is the buffers' memory in place, valid until any of es is recycled;
// else the pieces are copied into scratch, which must have room for them
// all (Join panics otherwise), and the slice is scratch's. Owner only.
func (r *Ring) Join(es []CQE, scratch []byte) []byte {
	b := &r.bufs
	pos := func(e CQE) int {
		bid, _ := e.Buffer()
		return int(bid)*int(b.size) + int(e.off)
	}
	start := pos(es[0])
	end := start
	inPlace := true
	for _, e := range es {
		if _, ok := e.Buffer(); !ok || e.Res <= 0 || pos(e) != end {
			inPlace = false
			break
		}
		end += int(e.Res)
	}
	if inPlace {
		return b.data[start:end:end]
	}
	out := scratch[:0]
	for _, e := range es {
		piece := r.Bytes(e)
		if len(out)+len(piece) > cap(scratch) {
			panic("uring: Join's scratch cannot hold the completions' bytes")
		}
		out = append(out, piece...)
	}
	return out
}

// Recycle gives back what completion e holds of its provided buffer; it
// does nothing for a completion that names none. Every completion that
// names a buffer must be recycled exactly once (a second Recycle panics).
// The buffer itself goes back to the kernel for later receives once the
// kernel is done with it (with incremental consumption, once it is full)
// and every completion naming it has been recycled. The buffers recycled
// between two enters are published to the kernel by the next one, with
// one atomic store instead of one per buffer. The kernel selects buffers
// only while it runs the ring's work, which with ModeDeferTaskrun is inside
// an enter; in the other modes a buffer recycled meanwhile is only seen a
// little later (at worst a receive ends with ENOBUFS and is armed again).
// Owner only.
func (r *Ring) Recycle(e CQE) {
	if bid, ok := e.Buffer(); ok {
		r.bufs.giveBack(bid)
	}
}

// Incremental reports whether receives consume provided buffers
// incrementally (IOU_PBUF_RING_INC, Linux 6.12): a receive takes only the
// bytes it fills of a buffer, so many connections' small messages share
// one. Without it each receive takes a whole buffer.
func (r *Ring) Incremental() bool { return r.bufs.inc }

// BuffersUsed reports whether a receive used a provided buffer since the
// last ReleaseBuffers. Owner only.
func (r *Ring) BuffersUsed() bool { return r.bufs.used }

// ReleaseBuffers gives the pages of the receive buffers back to the
// kernel (madvise MADV_DONTNEED): after a burst, an idle loop does not keep
// them resident. Their contents are not needed: a buffer holds bytes only
// between a completion and its Recycle, and the kernel fills buffers only
// while the owner is in the ring's system calls (task work), so calling it
// between them, with every completion recycled, races with nothing; a page
// comes back, zeroed, when a receive next writes it. With incremental
// consumption the buffer the kernel is filling loses its pages too: the
// bytes it already gave are recycled, and the rest is not written yet.
// Owner only.
func (r *Ring) ReleaseBuffers() error {
	if !r.bufs.used || r.bufs.data == nil {
		return nil
	}
	r.bufs.used = false
	return unix.Madvise(r.bufs.data, unix.MADV_DONTNEED)
}

// ResidentBuffers returns how many bytes of the receive buffers are
// resident in memory (mincore(2)), page by page: what receives touched
// since the last ReleaseBuffers. For tests and diagnostics; it costs a
// system call and a byte per page. Owner only.
func (r *Ring) ResidentBuffers() (int, error) {
	if r.bufs.data == nil {
		return 0, ErrClosed
	}
	page := unix.Getpagesize()
	vec := make([]byte, (len(r.bufs.data)+page-1)/page)
	_, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&r.bufs.data[0])), uintptr(len(r.bufs.data)), uintptr(unsafe.Pointer(&vec[0])))
	if errno != 0 {
		return 0, fmt.Errorf("mincore: %w", errno)
	}
	n := 0
	for _, v := range vec {
		n += int(v & 1) // the low bit: resident; the others are reserved
	}
	return n * page, nil
}

// BufferSize returns the size of each provided buffer.
func (r *Ring) BufferSize() int { return int(r.bufs.size) }
