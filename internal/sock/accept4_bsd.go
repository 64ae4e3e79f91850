//go:build dragonfly || freebsd || netbsd || openbsd

package sock

import "syscall"

// accept4 calls accept4(2) through the syscall package: x/sys has no
// Accept4 for NetBSD and OpenBSD, and both return the same syscall.Errno
// values.
func accept4(lfd int) (int, error) {
	fd, _, err := syscall.Accept4(lfd, syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC)
	return fd, err
}
