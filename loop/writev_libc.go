//go:build darwin || openbsd

package loop

import "golang.org/x/sys/unix"

// sysState holds the loop's scratch for system calls.
type sysState struct{}

// writev writes the segments with one writev(2) call through libc, as these
// systems require.
func (s *sysState) writev(fd int, bufs [][]byte) (int, error) { return unix.Writev(fd, bufs) }
