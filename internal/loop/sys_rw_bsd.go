//go:build dragonfly || freebsd || netbsd

package loop

import "golang.org/x/sys/unix"

// sysRead reads from a non-blocking socket. It never blocks, so it uses
// RawSyscall and skips the scheduler's entersyscall/exitsyscall bookkeeping
// that unix.Read would do.
func sysRead(fd int, p []byte) (int, error) { return rawRead(fd, p) }

// sysWrite writes to a non-blocking socket; see sysRead.
func sysWrite(fd int, p []byte) (int, error) { return rawWrite(fd, p) }

// sysWritev writes iov to a non-blocking socket with writev(2).
func (s *sysState) sysWritev(fd int, iov []unix.Iovec) (int, error) { return rawWritev(fd, iov) }
