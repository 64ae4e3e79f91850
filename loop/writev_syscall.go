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
	iov := s.iovecs[:0]
	for _, b := range bufs {
		v := unix.Iovec{Base: &b[0]}
		v.SetLen(len(b))
		iov = append(iov, v)
	}
	s.iovecs = iov
	// The iovec array and the bytes it points to are Go memory kept alive
	// by s and bufs for the whole call; the kernel only reads them.
	n, err := s.sysWritev(fd, iov)
	clear(iov)
	return n, err
}
