package loop

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// sysRead reads from a non-blocking socket with recvfrom(2). It never
// blocks, so it uses RawSyscall and skips the scheduler's
// entersyscall/exitsyscall bookkeeping. recvfrom and sendto go straight to
// the socket layer, where read(2) and write(2) pass through the VFS first
// (rw_verify_area, the file-permission security hook):
// BenchmarkSocketRoundTrip measures the difference.
func sysRead(fd int, p []byte) (int, error) {
	ptr, n := bufArgs(p)
	return sysResult(unix.RawSyscall6(unix.SYS_RECVFROM, uintptr(fd), ptr, n, 0, 0, 0))
}

// sysWrite writes to a non-blocking socket with sendto(2); see sysRead.
// MSG_NOSIGNAL makes a write to a reset connection fail with EPIPE without
// raising SIGPIPE.
func sysWrite(fd int, p []byte) (int, error) {
	ptr, n := bufArgs(p)
	return sysResult(unix.RawSyscall6(unix.SYS_SENDTO, uintptr(fd), ptr, n, unix.MSG_NOSIGNAL, 0, 0))
}

// sysWritev writes iov to a non-blocking socket with sendmsg(2), for the
// reasons of sysRead and sysWrite. Its message header lives in s, so the
// call does not allocate.
func (s *sysState) sysWritev(fd int, iov []unix.Iovec) (int, error) {
	s.msg = unix.Msghdr{Iov: &iov[0]}
	s.msg.SetIovlen(len(iov))
	n, err := sysResult(unix.RawSyscall(unix.SYS_SENDMSG, uintptr(fd), uintptr(unsafe.Pointer(&s.msg)), unix.MSG_NOSIGNAL))
	s.msg = unix.Msghdr{} // drop the pointer into iov
	return n, err
}
