//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package sock

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Listen creates a non-blocking, close-on-exec socket listening on a and
// returns its fd and the address it is bound to, with the real port when a
// asked for port 0.
//
// For TCP it sets SO_REUSEADDR, so a restarted server can bind while old
// connections sit in TIME_WAIT, and SO_REUSEPORT when reusePort is true, so
// that each loop can have its own listener on the same port. A tcp6 socket
// is IPv6-only (IPV6_V6ONLY); listen on tcp4 as well to accept IPv4.
//
// For unix, an existing socket file at the path is removed first, so a path
// left behind by a crashed server does not block the restart. It is removed
// even if another process still listens on it; a path that exists but is not
// a socket is left alone and Listen fails with EADDRINUSE.
//
// backlog is the length of the queue of connections waiting for Accept;
// backlog <= 0 means the system's maximum (net.core.somaxconn on Linux,
// SOMAXCONN elsewhere).
func Listen(a Addr, reusePort bool, backlog int) (fd int, bound net.Addr, err error) {
	domain, sa, err := sockaddr(a)
	if err != nil {
		return -1, nil, fmt.Errorf("sock: listen %s: %w", a, err)
	}
	if backlog <= 0 {
		backlog = maxBacklog()
	}
	if domain == unix.AF_UNIX {
		if err := removeStaleSocket(a.Address); err != nil {
			return -1, nil, fmt.Errorf("sock: listen %s: %w", a, err)
		}
	}
	fd, err = newSocket(domain)
	if err != nil {
		return -1, nil, fmt.Errorf("sock: listen %s: %w", a, os.NewSyscallError("socket", err))
	}
	if err := bindListen(fd, domain, sa, reusePort, backlog); err != nil {
		unix.Close(fd)
		return -1, nil, fmt.Errorf("sock: listen %s: %w", a, err)
	}
	lsa, err := unix.Getsockname(fd)
	if err != nil {
		unix.Close(fd)
		return -1, nil, fmt.Errorf("sock: listen %s: %w", a, os.NewSyscallError("getsockname", err))
	}
	return fd, netAddr(lsa), nil
}

// bindListen sets the socket options, binds and listens.
func bindListen(fd, domain int, sa unix.Sockaddr, reusePort bool, backlog int) error {
	if domain != unix.AF_UNIX {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
			return os.NewSyscallError("setsockopt SO_REUSEADDR", err)
		}
		if reusePort {
			if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
				return os.NewSyscallError("setsockopt SO_REUSEPORT", err)
			}
		}
	}
	if domain == unix.AF_INET6 {
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1); err != nil {
			return os.NewSyscallError("setsockopt IPV6_V6ONLY", err)
		}
	}
	if err := unix.Bind(fd, sa); err != nil {
		return os.NewSyscallError("bind", err)
	}
	if err := unix.Listen(fd, backlog); err != nil {
		return os.NewSyscallError("listen", err)
	}
	return nil
}

// removeStaleSocket removes path if it is a socket file. Linux abstract
// socket names ("@name") are not files and are skipped.
func removeStaleSocket(path string) error {
	if runtime.GOOS == "linux" && strings.HasPrefix(path, "@") {
		return nil
	}
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stale socket: %w", err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return nil
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("stale socket: %w", err)
	}
	return nil
}

// maxBacklog returns the largest listen backlog the system allows. On Linux
// that is net.core.somaxconn, which administrators raise for busy servers;
// the kernel silently caps larger values, and kernels before 4.1 keep the
// backlog in 16 bits, hence the cap (the net package does the same). The
// BSDs and Darwin also cap at their kern.ipc sysctl, but SOMAXCONN is their
// default for it; pass an explicit backlog after raising it there.
func maxBacklog() int {
	if runtime.GOOS != "linux" {
		return unix.SOMAXCONN
	}
	b, err := os.ReadFile("/proc/sys/net/core/somaxconn")
	if err != nil {
		return unix.SOMAXCONN
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || n <= 0 {
		return unix.SOMAXCONN
	}
	return min(n, 1<<16-1)
}
