//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package sock

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// SetNoDelay turns Nagle's algorithm off (on == true) or back on for a TCP
// socket (TCP_NODELAY). On a unix socket, which has no such option, it does
// nothing and returns nil.
func SetNoDelay(fd int, on bool) error {
	v := 0
	if on {
		v = 1
	}
	err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, v)
	if err == nil {
		return nil
	}
	// Asking first would cost a getsockname on every TCP connection; only
	// the failure path pays to find out whether this is a unix socket.
	if sa, serr := unix.Getsockname(fd); serr == nil {
		if _, ok := sa.(*unix.SockaddrUnix); ok {
			return nil
		}
	}
	return fmt.Errorf("sock: set TCP_NODELAY on fd %d: %w", fd, os.NewSyscallError("setsockopt", err))
}

// SetLinger0 sets SO_LINGER to {on, 0 seconds}, so that closing fd discards
// unsent data and sends a RST instead of the normal FIN exchange, and the
// connection skips TIME_WAIT. Use it to abort a connection.
func SetLinger0(fd int) error {
	if err := unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0}); err != nil {
		return fmt.Errorf("sock: set SO_LINGER on fd %d: %w", fd, os.NewSyscallError("setsockopt", err))
	}
	return nil
}

// ShutdownWrite shuts down the sending side of fd (shutdown(2) with
// SHUT_WR): the peer reads end of file once it has read what was sent, while
// fd can still read what the peer sends.
func ShutdownWrite(fd int) error {
	if err := unix.Shutdown(fd, unix.SHUT_WR); err != nil {
		return fmt.Errorf("sock: shutdown write on fd %d: %w", fd, os.NewSyscallError("shutdown", err))
	}
	return nil
}
