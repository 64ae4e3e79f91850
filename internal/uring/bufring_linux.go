//go:build linux && (amd64 || arm64)

package uring

import (
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
type bufRing struct {
	ring    []byte     // the descriptors, count × 16 bytes
	entries []bufEntry // ring as descriptors
	data    []byte     // count × size bytes of buffers, buffer i at i×size
	size    uint32
	mask    uint16
	tail    uint16
	shown   uint16 // the tail the kernel was last shown (publish)
	reg     bool
}

// setup maps the descriptors and buffers, fills the ring with every buffer
// and registers it with the kernel as group bufGroupID.
func (b *bufRing) setup(ringFD int, count, size uint32) error {
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
	reg := bufReg{ringAddr: uint64(uintptr(unsafe.Pointer(&b.ring[0]))), ringEntries: count, bgid: bufGroupID}
	_, _, errno := unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(ringFD), registerPBufRing, uintptr(unsafe.Pointer(&reg)), 1, 0, 0)
	if errno != 0 {
		return &UnavailableError{Reason: ReasonMissingFeature, Detail: "provided-buffer ring (needs Linux 5.19)", Err: errno}
	}
	b.reg = true
	for bid := range uint16(count) {
		b.put(bid)
	}
	b.publish()
	return nil
}

// bytes returns the first n bytes of buffer bid.
func (b *bufRing) bytes(bid uint16, n int) []byte {
	off := int(bid) * int(b.size)
	return b.data[off : off+n : off+int(b.size)]
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

// recycle queues buffer bid for the kernel; the next enter publishes it
// (see Ring.Recycle).
func (b *bufRing) recycle(bid uint16) {
	b.put(bid)
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

// Buffer returns the n bytes a receive completion put in provided buffer
// bid. The slice aliases mmap'd memory the kernel will reuse: it is valid
// until Recycle(bid), and must not be used after it. Owner only.
func (r *Ring) Buffer(bid uint16, n int) []byte { return r.bufs.bytes(bid, n) }

// Recycle gives provided buffer bid back to the kernel for later receives.
// Every buffer a completion names must be recycled exactly once. The
// buffers recycled between two enters are published to the kernel by the
// next one, with one atomic store instead of one per buffer. The kernel
// selects buffers only
// while it runs the ring's work, which with ModeDeferTaskrun is inside an
// enter; in the other modes a buffer recycled meanwhile is only seen a
// little later (at worst a receive ends with ENOBUFS and is armed again).
// Owner only.
func (r *Ring) Recycle(bid uint16) { r.bufs.recycle(bid) }

// BufferSize returns the size of each provided buffer.
func (r *Ring) BufferSize() int { return int(r.bufs.size) }
