package sock

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// newSocket returns a non-blocking, close-on-exec stream socket of the given
// domain. Darwin has no SOCK_CLOEXEC, so the fd is created and marked under
// syscall.ForkLock: a fork in another goroutine waits for the write side of
// that lock and so never sees the fd before it is close-on-exec.
func newSocket(domain int) (int, error) {
	syscall.ForkLock.RLock()
	fd, err := unix.Socket(domain, unix.SOCK_STREAM, 0)
	if err == nil {
		unix.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, err
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// Accept accepts one connection on the listening socket lfd and returns its
// fd, non-blocking and close-on-exec. It is called on the loop's hot path.
//
// Errors are the bare errno so that callers compare them with ==:
// unix.EAGAIN when no connection is pending, unix.EMFILE or unix.ENFILE when
// the process or the system is out of fds, unix.ECONNABORTED when a
// connection was reset while it waited in the queue. EINTR is retried.
//
// Darwin has no accept4(2), so this is accept(2) and fcntl(2) under
// syscall.ForkLock, as in newSocket. Holding the lock across accept is safe
// only because lfd is non-blocking (Listen made it so and nothing here
// changes that), so accept returns at once instead of stalling every fork.
// The net package does not take the lock here for exactly that reason: its
// File method can make a listener blocking.
//
// Accept does not return the peer's address; PeerAddr computes it when it is
// wanted.
func Accept(lfd int) (int, error) {
	for {
		syscall.ForkLock.RLock()
		fd, _, err := unix.Accept(lfd)
		if err == nil {
			unix.CloseOnExec(fd)
		}
		syscall.ForkLock.RUnlock()
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return -1, err
		}
		if err := unix.SetNonblock(fd, true); err != nil {
			unix.Close(fd)
			return -1, err
		}
		return fd, nil
	}
}
