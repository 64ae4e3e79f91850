//go:build !linux && !darwin && !dragonfly && !freebsd && !netbsd && !openbsd

package sock

import (
	"net"
	"os"
)

// Listen returns ErrUnsupported on this platform.
func Listen(a Addr, reusePort bool, backlog int) (fd int, bound net.Addr, err error) {
	return -1, nil, ErrUnsupported
}

// Accept returns ErrUnsupported on this platform.
func Accept(lfd int) (int, error) { return -1, ErrUnsupported }

// Dial returns ErrUnsupported on this platform.
func Dial(a Addr) (fd int, connected bool, err error) { return -1, false, ErrUnsupported }

// ConnectResult returns ErrUnsupported on this platform.
func ConnectResult(fd int) error { return ErrUnsupported }

// SetNoDelay returns ErrUnsupported on this platform.
func SetNoDelay(fd int, on bool) error { return ErrUnsupported }

// SetLinger0 returns ErrUnsupported on this platform.
func SetLinger0(fd int) error { return ErrUnsupported }

// ShutdownWrite returns ErrUnsupported on this platform.
func ShutdownWrite(fd int) error { return ErrUnsupported }

// LocalAddr returns nil on this platform.
func LocalAddr(fd int) net.Addr { return nil }

// PeerAddr returns nil on this platform.
func PeerAddr(fd int) net.Addr { return nil }

// IsTCP returns false on this platform.
func IsTCP(fd int) bool { return false }

// CheckListener returns ErrUnsupported on this platform.
func CheckListener(fd int) (net.Addr, error) { return nil, ErrUnsupported }

// DupListener returns ErrUnsupported on this platform.
func DupListener(fd int) (int, error) { return -1, ErrUnsupported }

// ListenFDs returns ErrUnsupported on this platform.
func ListenFDs(getenv func(string) string, pid int) ([]*os.File, error) {
	return nil, ErrUnsupported
}
