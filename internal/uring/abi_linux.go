//go:build linux && (amd64 || arm64)

package uring

// The kernel ABI of io_uring (include/uapi/linux/io_uring.h), restated with
// only what this package uses. Layouts are checked by TestABISizes.

// io_uring_setup flags.
const (
	setupCQSize       = 1 << 3
	setupClamp        = 1 << 4
	setupCoopTaskrun  = 1 << 8
	setupTaskrunFlag  = 1 << 9
	setupSingleIssuer = 1 << 12
	setupDeferTaskrun = 1 << 13
)

// io_uring_enter flags.
const (
	enterGetEvents = 1 << 0
	enterExtArg    = 1 << 3
)

// mmap offsets of the three regions.
const (
	offSQRing = 0
	offCQRing = 0x8000000
	offSQEs   = 0x10000000
)

// Opcodes (enum io_uring_op). Only those the backend prepares or requires.
const (
	opcodeNop         = 0
	opcodePollAdd     = 6
	opcodeSendmsg     = 9
	opcodeAccept      = 13
	opcodeAsyncCancel = 14
	opcodeClose       = 19
	opcodeRead        = 22
	opcodeSend        = 26
	opcodeRecv        = 27
	opcodeShutdown    = 34
)

// Submission entry flags (IOSQE_*).
const (
	sqeFixedFile    = 1 << 0
	sqeIOHardlink   = 1 << 3
	sqeBufferSelect = 1 << 5
)

// ioprio bits for accept and receive.
const (
	acceptMultishot = 1 << 0
	recvMultishot   = 1 << 1
)

// Cancel flags.
const (
	cancelAll     = 1 << 0
	cancelFD      = 1 << 1
	cancelFDFixed = 1 << 3
)

// fileIndexAlloc asks the kernel to pick a free slot of the direct
// descriptor table (IORING_FILE_INDEX_ALLOC).
const fileIndexAlloc = ^uint32(0)

// io_uring_register opcodes.
const (
	registerProbe      = 8
	registerFiles2     = 13
	registerPBufRing   = 22
	unregisterPBufRing = 23
)

// rsrcRegisterSparse registers a table of empty slots.
const rsrcRegisterSparse = 1 << 0

// rsrcRegister is struct io_uring_rsrc_register.
type rsrcRegister struct {
	nr    uint32
	flags uint32
	resv2 uint64
	data  uint64
	tags  uint64
}

// probeOpSupported marks a supported opcode in a probe entry.
const probeOpSupported = 1 << 0

// sqRingOffsets is struct io_sqring_offsets.
type sqRingOffsets struct {
	head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
	userAddr                                                        uint64
}

// cqRingOffsets is struct io_cqring_offsets.
type cqRingOffsets struct {
	head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
	userAddr                                                        uint64
}

// params is struct io_uring_params.
type params struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFD uint32
	resv                                                                   [3]uint32
	sqOff                                                                  sqRingOffsets
	cqOff                                                                  cqRingOffsets
}

// sqe is struct io_uring_sqe (64 bytes), its unions reduced to the member
// this package writes.
type sqe struct {
	opcode      uint8
	flags       uint8
	ioprio      uint16
	fd          int32
	off         uint64 // off or addr2
	addr        uint64
	len         uint32
	opFlags     uint32 // msg_flags, accept_flags, cancel_flags, ...
	userData    uint64
	bufGroup    uint16 // buf_index or buf_group
	personality uint16
	fileIndex   uint32
	addr3       uint64
	pad         uint64
}

// cqe is struct io_uring_cqe without the big-CQE tail.
type cqe struct {
	userData uint64
	res      int32
	flags    uint32
}

// getEventsArg is struct io_uring_getevents_arg.
type getEventsArg struct {
	sigmask   uint64
	sigmaskSz uint32
	minWait   uint32
	ts        uint64
}

// probeOp is struct io_uring_probe_op.
type probeOp struct {
	op    uint8
	resv  uint8
	flags uint16
	resv2 uint32
}

// probeMaxOps is how many opcodes a probe asks about.
const probeMaxOps = 256

// probeArg is struct io_uring_probe with room for every opcode.
type probeArg struct {
	lastOp uint8
	opsLen uint8
	resv   uint16
	resv2  [3]uint32
	ops    [probeMaxOps]probeOp
}

// bufEntry is struct io_uring_buf; the resv field of entry 0 is the ring's
// tail.
type bufEntry struct {
	addr uint64
	len  uint32
	bid  uint16
	resv uint16
}

// bufReg is struct io_uring_buf_reg. Kernels before 6.4 call flags pad
// and refuse it non-zero (EINVAL), as later ones refuse a flag they do not
// know.
type bufReg struct {
	ringAddr    uint64
	ringEntries uint32
	bgid        uint16
	flags       uint16
	resv        [3]uint64
}

// pbufRingInc is IOU_PBUF_RING_INC (Linux 6.12): a receive consumes only
// the bytes it fills of a provided buffer, and the rest of the buffer stays
// at the head of the ring for the next receive.
const pbufRingInc = 1 << 1

// msghdr is struct msghdr on 64-bit Linux with integer fields only, so that
// addresses stored in mmap'd memory are never typed as Go pointers.
type msghdr struct {
	name       uint64
	namelen    uint32
	_          uint32
	iov        uint64
	iovlen     uint64
	control    uint64
	controllen uint64
	flags      int32
	_          uint32
}

// iovec is struct iovec.
type iovec struct {
	base uint64
	len  uint64
}
