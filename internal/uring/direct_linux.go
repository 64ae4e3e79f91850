//go:build linux && (amd64 || arm64)

package uring

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Direct descriptors (IORING_REGISTER_FILES2 with a sparse table, Linux
// 5.19): sockets that exist only in the ring's own table, so an operation on
// one skips the process's fd table and its reference counting. They are
// named by Direct(slot), a number no ordinary fd reaches, and every method
// that takes an fd accepts one. Nothing outside the ring can use them: no
// getsockopt, no peer address, no close(2).

// directBit marks a direct descriptor. Ordinary fds stay below
// fs.nr_open, at most 2^30 on Linux.
const directBit = 1 << 30

// Direct returns the name of slot in the ring's direct descriptor table.
func Direct(slot int) int { return directBit | slot }

// IsDirect reports whether fd names a direct descriptor, and its slot.
func IsDirect(fd int) (slot int, ok bool) { return fd &^ directBit, fd&directBit != 0 }

// registerDirect registers a sparse table of n slots.
func (r *Ring) registerDirect(n uint32) error {
	reg := rsrcRegister{nr: n, flags: rsrcRegisterSparse}
	_, _, errno := unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(r.fd), registerFiles2,
		uintptr(unsafe.Pointer(&reg)), unsafe.Sizeof(reg), 0, 0)
	if errno != 0 {
		return &UnavailableError{Reason: ReasonMissingFeature, Detail: fmt.Sprintf("sparse direct descriptor table of %d", n), Err: errno}
	}
	return nil
}

// target fills the fd of e, as a slot with IOSQE_FIXED_FILE for a direct
// descriptor.
func target(e *sqe, fd int) {
	if slot, ok := IsDirect(fd); ok {
		e.fd = int32(slot)
		e.flags |= sqeFixedFile
		return
	}
	e.fd = int32(fd)
}

// AcceptMultishotDirect is AcceptMultishot with every accepted socket put
// in a free slot of the direct table (Config.DirectDescriptors must be set);
// Res is the slot, to be named with Direct.
func (r *Ring) AcceptMultishotDirect(lfd int, tok Token) error {
	if err := r.AcceptMultishot(lfd, tok); err != nil {
		return err
	}
	e := &r.sqes[(r.sqTail-1)&r.sqMask]
	e.fileIndex = fileIndexAlloc
	// A slot has no close-on-exec bit; the kernel refuses the flag.
	e.opFlags &^= unix.SOCK_CLOEXEC
	return nil
}
