//go:build unix

package restart

import "syscall"

func closeOnExec(fd int) { syscall.CloseOnExec(fd) }
