//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package sock

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Dial creates a non-blocking, close-on-exec socket and starts connecting it
// to a. It returns the fd and whether the connection is already established.
// When connected is false the connection is in progress: the caller waits
// until fd is writable and then calls ConnectResult. On error the fd is
// closed and -1 is returned.
//
// A unix socket usually connects at once; when the listener's queue is full
// Linux fails with EAGAIN instead of queueing the attempt, and Dial returns
// that error.
func Dial(a Addr) (fd int, connected bool, err error) {
	domain, sa, err := sockaddr(a)
	if err != nil {
		return -1, false, fmt.Errorf("sock: dial %s: %w", a, err)
	}
	fd, err = newSocket(domain)
	if err != nil {
		return -1, false, fmt.Errorf("sock: dial %s: %w", a, os.NewSyscallError("socket", err))
	}
	switch err := unix.Connect(fd, sa); err {
	case nil:
		return fd, true, nil
	case unix.EINPROGRESS, unix.EINTR:
		// An interrupted connect(2) carries on asynchronously, exactly like
		// one that returned EINPROGRESS (POSIX connect, "EINTR").
		return fd, false, nil
	default:
		unix.Close(fd)
		return -1, false, fmt.Errorf("sock: dial %s: %w", a, os.NewSyscallError("connect", err))
	}
}

// ConnectResult reports how a connection started by Dial ended, once fd has
// become writable. It returns nil when fd is connected and otherwise an error
// wrapping the errno from SO_ERROR, such as unix.ECONNREFUSED or
// unix.ETIMEDOUT; the caller then closes fd. SO_ERROR is cleared by reading
// it, so call ConnectResult once per attempt.
//
// A wake-up before the attempt has finished gives an error wrapping
// unix.EINPROGRESS: wait for writability again. Pollers can report a socket
// writable spuriously, so SO_ERROR == 0 alone does not prove the connection
// (Go issues 14548 and 19289); getpeername(2) confirms it.
//
// A TCP dial to a free port on the local host can connect the socket to
// itself when the kernel picks that same port as the source (simultaneous
// open, Go issue 2690). No server is there, so ConnectResult reports it as
// unix.ECONNREFUSED.
func ConnectResult(fd int) error {
	v, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return fmt.Errorf("sock: connect fd %d: %w", fd, os.NewSyscallError("getsockopt SO_ERROR", err))
	}
	switch e := unix.Errno(v); e {
	case 0:
	case unix.EINPROGRESS, unix.EALREADY, unix.EINTR:
		return fmt.Errorf("sock: connect fd %d: %w", fd, unix.EINPROGRESS)
	default:
		return fmt.Errorf("sock: connect fd %d: %w", fd, e)
	}
	peer, err := unix.Getpeername(fd)
	if err == unix.ENOTCONN {
		return fmt.Errorf("sock: connect fd %d: %w", fd, unix.EINPROGRESS)
	}
	if err != nil {
		return fmt.Errorf("sock: connect fd %d: %w", fd, os.NewSyscallError("getpeername", err))
	}
	if connectedToSelf(fd, peer) {
		return fmt.Errorf("sock: connect fd %d: connected to itself: %w", fd, unix.ECONNREFUSED)
	}
	return nil
}

// connectedToSelf reports whether fd's local address equals its peer's.
func connectedToSelf(fd int, peer unix.Sockaddr) bool {
	local, err := unix.Getsockname(fd)
	if err != nil {
		return false
	}
	switch p := peer.(type) {
	case *unix.SockaddrInet4:
		l, ok := local.(*unix.SockaddrInet4)
		return ok && l.Port == p.Port && l.Addr == p.Addr
	case *unix.SockaddrInet6:
		l, ok := local.(*unix.SockaddrInet6)
		return ok && l.Port == p.Port && l.Addr == p.Addr
	}
	return false
}
