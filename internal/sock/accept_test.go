//go:build linux

package sock_test

import (
	"testing"

	"github.com/pinion-net/pinion/internal/sock"
	"golang.org/x/sys/unix"
)

func TestAcceptEmpty(t *testing.T) {
	checkNoLeak(t)
	lfd, _ := listen(t, "127.0.0.1:0", false)
	var err error
	allocs := testing.AllocsPerRun(100, func() {
		var fd int
		fd, err = sock.Accept(lfd)
		if err == nil {
			unix.Close(fd)
		}
	})
	if err != unix.EAGAIN {
		t.Fatalf("Accept on an empty listener: got %v, want unix.EAGAIN (compared with ==)", err)
	}
	if allocs != 0 {
		t.Errorf("Accept returning EAGAIN: got %v allocations per call, want 0", allocs)
	}
}

func TestAcceptBadFD(t *testing.T) {
	fd, err := sock.Accept(-1)
	if err != unix.EBADF || fd != -1 {
		t.Errorf("Accept(-1) = %d, %v; want -1, unix.EBADF", fd, err)
	}
}
