//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package sock

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// CheckListener checks that fd is a socket the loops can accept on: a
// stream socket (SO_TYPE is SOCK_STREAM) of family AF_INET, AF_INET6 or
// AF_UNIX that is listening (SO_ACCEPTCONN is 1). It returns the address
// the socket is bound to. Its errors name the fd and what is wrong, and
// wrap ErrNotListener (or the errno of a failed getsockopt).
func CheckListener(fd int) (net.Addr, error) {
	typ, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE)
	if err == unix.ENOTSOCK {
		return nil, fmt.Errorf("sock: fd %d: %w: not a socket", fd, ErrNotListener)
	}
	if err != nil {
		return nil, fmt.Errorf("sock: fd %d: %w", fd, os.NewSyscallError("getsockopt SO_TYPE", err))
	}
	if typ != unix.SOCK_STREAM {
		return nil, fmt.Errorf("sock: fd %d: %w: socket type is %s, want SOCK_STREAM", fd, ErrNotListener, sockType(typ))
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return nil, fmt.Errorf("sock: fd %d: %w", fd, os.NewSyscallError("getsockname", err))
	}
	addr := netAddr(sa)
	if addr == nil {
		return nil, fmt.Errorf("sock: fd %d: %w: address family %T is not AF_INET, AF_INET6 or AF_UNIX", fd, ErrNotListener, sa)
	}
	acc, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN)
	if err != nil {
		return nil, fmt.Errorf("sock: fd %d: %w", fd, os.NewSyscallError("getsockopt SO_ACCEPTCONN", err))
	}
	if acc == 0 {
		return nil, fmt.Errorf("sock: fd %d (%s): %w: it is not listening (SO_ACCEPTCONN is 0; call listen(2) before handing it over)", fd, addr, ErrNotListener)
	}
	return addr, nil
}

func sockType(t int) string {
	switch t {
	case unix.SOCK_DGRAM:
		return "SOCK_DGRAM"
	case unix.SOCK_SEQPACKET:
		return "SOCK_SEQPACKET"
	case unix.SOCK_RAW:
		return "SOCK_RAW"
	}
	return strconv.Itoa(t)
}

// DupListener returns a new fd for the socket of fd, close-on-exec and
// non-blocking: the loops own it and close it, whatever becomes of fd.
// O_NONBLOCK belongs to the socket, not the fd, so fd becomes
// non-blocking too.
func DupListener(fd int) (int, error) {
	nfd, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("sock: fd %d: %w", fd, os.NewSyscallError("fcntl F_DUPFD_CLOEXEC", err))
	}
	if err := unix.SetNonblock(nfd, true); err != nil {
		unix.Close(nfd)
		return -1, fmt.Errorf("sock: fd %d: %w", fd, os.NewSyscallError("fcntl O_NONBLOCK", err))
	}
	return nfd, nil
}

// listenFDsStart is the first fd of socket activation (SD_LISTEN_FDS_START).
const listenFDsStart = 3

// ListenFDs returns the sockets a service manager passed to this process
// by the socket activation protocol of systemd (sd_listen_fds(3)): when
// LISTEN_PID is pid, LISTEN_FDS sockets start at fd 3, named by
// LISTEN_FDNAMES (colon-separated) when it has one name per socket. It
// returns none when the variables are absent or meant for another process
// (a child inherits the environment, not the pid). Each fd is marked
// close-on-exec so that children do not inherit it. getenv is os.Getenv
// outside tests.
func ListenFDs(getenv func(string) string, pid int) ([]*os.File, error) {
	p := getenv("LISTEN_PID")
	if p == "" {
		return nil, nil
	}
	if n, err := strconv.Atoi(p); err != nil {
		return nil, fmt.Errorf("sock: LISTEN_PID=%q is not a process ID", p)
	} else if n != pid {
		return nil, nil
	}
	s := getenv("LISTEN_FDS")
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 1<<16 {
		return nil, fmt.Errorf("sock: LISTEN_FDS=%q is not a count of sockets", s)
	}
	names := strings.Split(getenv("LISTEN_FDNAMES"), ":")
	files := make([]*os.File, 0, n)
	for i := range n {
		fd := listenFDsStart + i
		unix.CloseOnExec(fd)
		name := "LISTEN_FDS[" + strconv.Itoa(i) + "]"
		if len(names) == n && names[i] != "" {
			name = names[i]
		}
		files = append(files, os.NewFile(uintptr(fd), name))
	}
	return files, nil
}
