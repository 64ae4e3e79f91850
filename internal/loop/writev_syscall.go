//go:build linux || dragonfly || freebsd || netbsd

package loop

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// bufArgs returns the address and length of p as system-call arguments.
// The bytes are Go memory kept alive by the caller's p for the whole call.
func bufArgs(p []byte) (uintptr, uintptr) {
	if len(p) == 0 {
		return 0, 0
	}
	return uintptr(unsafe.Pointer(&p[0])), uintptr(len(p))
}

// sysResult is a raw system call's result as Go returns it; the second
// result register is unused.
func sysResult(n, _ uintptr, errno unix.Errno) (int, error) {
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

// sysState holds the loop's scratch for system calls.
type sysState struct {
	iovecs []unix.Iovec
	msg    unix.Msghdr // sendmsg's header, on Linux
}

// writev writes the segments with one system call (sysWritev), reusing
// the loop's iovec array so that it does not allocate. Like sysWrite it
// never blocks.
func (s *sysState) writev(fd int, bufs [][]byte) (int, error) {
	iov := s.iovec(bufs)
	// The iovec array and the bytes it points to are Go memory kept alive
	// by s and bufs for the whole call; the kernel only reads them.
	n, err := s.sysWritev(fd, iov)
	clear(iov)
	return n, err
}

// iovec fills the loop's iovec array with bufs, none of them empty, and
// returns it; the caller clears it after the call.
func (s *sysState) iovec(bufs [][]byte) []unix.Iovec {
	iov := s.iovecs[:0]
	for _, b := range bufs {
		v := unix.Iovec{Base: &b[0]}
		v.SetLen(len(b))
		iov = append(iov, v)
	}
	s.iovecs = iov
	return iov
}

// rawRead, rawWrite and rawWritev are read(2), write(2) and writev(2)
// without the scheduler's bookkeeping, for non-blocking sockets: the BSDs'
// sysRead, sysWrite and sysWritev, and on Linux the VFS path that
// BenchmarkSocketRoundTrip compares with the socket calls the loop uses.
func rawRead(fd int, p []byte) (int, error) {
	ptr, n := bufArgs(p)
	return sysResult(unix.RawSyscall(unix.SYS_READ, uintptr(fd), ptr, n))
}

func rawWrite(fd int, p []byte) (int, error) {
	ptr, n := bufArgs(p)
	return sysResult(unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), ptr, n))
}

func rawWritev(fd int, iov []unix.Iovec) (int, error) {
	return sysResult(unix.RawSyscall(unix.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov))))
}
