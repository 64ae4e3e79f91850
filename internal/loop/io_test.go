package loop

import (
	"os"
	"testing"
)

// ioModes are the backends every scenario test runs on: the poller, and
// io_uring where this kernel allows it (skipped elsewhere).
var ioModes = []IOMode{IOEpoll, IOUring}

// forEachIO runs f as a subtest per backend; the io_uring one is skipped
// when the ring cannot be set up here.
func forEachIO(t *testing.T, f func(t *testing.T, io IOMode)) {
	for _, io := range ioModes {
		t.Run(io.String(), func(t *testing.T) {
			if io == IOUring {
				skipWithoutRing(t)
			}
			f(t, io)
		})
	}
}

// envIO returns the backend PINION_TEST_IO names ("uring" or "epoll", the
// default), so that the whole suite can run on either: CI runs both.
func envIO(t testing.TB) IOMode {
	if os.Getenv("PINION_TEST_IO") == "uring" {
		skipWithoutRing(t)
		return IOUring
	}
	return IOEpoll
}

// skipWithoutRing skips t when this machine cannot set a ring up (a seccomp
// filter, the sysctl, an old kernel, another OS), saying why.
func skipWithoutRing(t testing.TB) {
	t.Helper()
	if err := ProbeRing(RingConfig{}); err != nil {
		t.Skipf("io_uring unavailable here: %v", err)
	}
}
