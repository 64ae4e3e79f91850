//go:build linux || dragonfly || freebsd || netbsd

package loop

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// sysState holds the loop's scratch for system calls.
type sysState struct {
	iovecs []unix.Iovec
}

// writev writes the segments with one writev(2) system call, reusing the
// loop's iovec array so that it does not allocate.
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
	n, _, errno := unix.Syscall(unix.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)))
	clear(iov)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}
