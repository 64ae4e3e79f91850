//go:build dragonfly || freebsd || linux || netbsd || openbsd

package sock

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// newSocket returns a non-blocking, close-on-exec stream socket of the given
// domain, both flags set atomically by socket(2).
func newSocket(domain int) (int, error) {
	return unix.Socket(domain, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
}

// Accept accepts one connection on the listening socket lfd and returns its
// fd, non-blocking and close-on-exec (accept4(2) with SOCK_NONBLOCK and
// SOCK_CLOEXEC). It is called on the loop's hot path.
//
// Errors are the bare errno so that callers compare them with ==:
// unix.EAGAIN when no connection is pending, unix.EMFILE or unix.ENFILE when
// the process or the system is out of fds, unix.ECONNABORTED when a
// connection was reset while it waited in the queue. Accept does not allocate
// when it returns unix.EAGAIN. EINTR is retried.
//
// Accept does not return the peer's address; PeerAddr computes it when it is
// wanted, so a connection keeps no memory for it.
func Accept(lfd int) (int, error) {
	for {
		fd, err := accept4(lfd)
		switch err {
		case nil:
			return fd, nil
		case syscall.EINTR:
		default:
			return -1, err
		}
	}
}
