package sock

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// accept4 calls accept4(2) without asking for the peer's address, so that
// an accepted connection allocates nothing: the wrappers in syscall and
// x/sys build a Sockaddr for every connection, garbage that shows up in the
// memory per connection.
func accept4(lfd int) (int, error) {
	fd, _, errno := unix.Syscall6(unix.SYS_ACCEPT4, uintptr(lfd), 0, 0,
		unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0, 0)
	if errno != 0 {
		return -1, syscall.Errno(errno)
	}
	return int(fd), nil
}
