//go:build darwin || openbsd

package loop

import "golang.org/x/sys/unix"

// sysRead and sysWrite go through libc, as these systems require.
func sysRead(fd int, p []byte) (int, error)  { return unix.Read(fd, p) }
func sysWrite(fd int, p []byte) (int, error) { return unix.Write(fd, p) }

// sysState holds the loop's scratch for system calls.
type sysState struct{}

// writev writes the segments with one writev(2) call through libc, as these
// systems require.
func (s *sysState) writev(fd int, bufs [][]byte) (int, error) { return unix.Writev(fd, bufs) }
