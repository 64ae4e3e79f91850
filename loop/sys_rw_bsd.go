//go:build dragonfly || freebsd || netbsd

package loop

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// sysRead reads from a non-blocking socket. It never blocks, so it uses
// RawSyscall and skips the scheduler's entersyscall/exitsyscall bookkeeping
// that unix.Read would do.
func sysRead(fd int, p []byte) (int, error) {
	ptr, n := bufArgs(p)
	return sysResult(unix.RawSyscall(unix.SYS_READ, uintptr(fd), ptr, n))
}

// sysWrite writes to a non-blocking socket; see sysRead.
func sysWrite(fd int, p []byte) (int, error) {
	ptr, n := bufArgs(p)
	return sysResult(unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), ptr, n))
}

// sysWritev writes iov to a non-blocking socket with writev(2).
func (s *sysState) sysWritev(fd int, iov []unix.Iovec) (int, error) {
	return sysResult(unix.RawSyscall(unix.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov))))
}
