//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package loop

import (
	"errors"

	"golang.org/x/sys/unix"

	"github.com/pinion-net/pinion/internal/sock"
)

// The system calls the loop makes, one small function each, so the loop's
// logic compiles on every OS (see sys_other.go).

var errHangUp = errors.New("connection hung up")

func sysClose(fd int) error         { return unix.Close(fd) }
func sysShutdownWrite(fd int) error { return sock.ShutdownWrite(fd) }
func sysSetLinger0(fd int) error    { return sock.SetLinger0(fd) }

// sysSocketError returns the socket's pending error (SO_ERROR), if any.
func sysSocketError(fd int) error {
	v, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return err
	}
	if v != 0 {
		return unix.Errno(v)
	}
	return nil
}

// Errno values are compared directly: they are not wrapped on these paths,
// and comparing does not allocate.

func isAgain(err error) bool       { return err == unix.EAGAIN || err == unix.EWOULDBLOCK }
func isInterrupted(err error) bool { return err == unix.EINTR }

// isInProgress reports a connect that has not finished yet.
func isInProgress(err error) bool { return errors.Is(err, unix.EINPROGRESS) }

// isOutOfFDs reports the accept errors that mean "no resources now": the
// listener is paused and retried later (accept(2): EMFILE, ENFILE, ENOBUFS,
// ENOMEM).
func isOutOfFDs(err error) bool {
	return err == unix.EMFILE || err == unix.ENFILE || err == unix.ENOBUFS || err == unix.ENOMEM
}

// isAbortedAccept reports accept errors about one connection that died in
// the queue; the next one may be fine (accept(2) on Linux passes on network
// errors of the new socket, such as EPROTO and ECONNABORTED).
func isAbortedAccept(err error) bool {
	return err == unix.ECONNABORTED || err == unix.EPROTO || err == unix.EPERM
}
