//go:build linux || dragonfly || freebsd || netbsd

package loop

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// sysRead reads from a non-blocking socket. It never blocks, so it uses
// RawSyscall and skips the scheduler's entersyscall/exitsyscall bookkeeping
// that a blocking call needs.
func sysRead(fd int, p []byte) (int, error) {
	var ptr unsafe.Pointer
	if len(p) > 0 {
		ptr = unsafe.Pointer(&p[0])
	}
	n, _, errno := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(ptr), uintptr(len(p)))
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

// sysWrite writes to a non-blocking socket; see sysRead.
func sysWrite(fd int, p []byte) (int, error) {
	var ptr unsafe.Pointer
	if len(p) > 0 {
		ptr = unsafe.Pointer(&p[0])
	}
	n, _, errno := unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(ptr), uintptr(len(p)))
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

// sysState holds the loop's scratch for system calls.
type sysState struct {
	iovecs []unix.Iovec
}

// writev writes the segments with one writev(2) system call, reusing the
// loop's iovec array so that it does not allocate. Like sysWrite it never
// blocks.
func (s *sysState) writev(fd int, bufs [][]byte) (int, error) {
	iov := s.iovecs[:0]
	for _, b := range bufs {
		v := unix.Iovec{Base: &b[0]}
		v.SetLen(len(b))
		iov = append(iov, v)
	}
	s.iovecs = iov
	// The iovec array and the bytes it points to are Go memory kept alive
	// by s and bufs for the whole call; the kernel only reads them.
	n, _, errno := unix.RawSyscall(unix.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)))
	clear(iov)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}
