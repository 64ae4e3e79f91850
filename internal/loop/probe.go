package loop

import (
	"errors"
	"runtime"

	"github.com/pinion-net/pinion/internal/uring"
)

// ProbeRing sets a ring up as an IOUring loop would, on a throwaway locked
// goroutine, and closes it: nil when IOUring loops can run here, else an
// error matching uring.ErrUnavailable whose *uring.UnavailableError says
// why (see RingUnavailable). It costs tens of microseconds.
func ProbeRing(cfg RingConfig) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // the thread ends with the goroutine
		r, err := uring.New(uring.Config{
			Entries:          cfg.Entries,
			BufferCount:      cfg.Buffers,
			BufferSize:       cfg.BufferSize,
			MaxIovecs:        ringMaxIov,
			ForceUnavailable: cfg.ForceUnavailable,
		})
		if err == nil {
			err = r.Close()
		}
		done <- err
	}()
	return <-done
}

// RingUnavailable returns the reason and detail of a ProbeRing or Started
// error when it says the ring cannot be used, for a log line.
func RingUnavailable(err error) (reason, detail string, ok bool) {
	var ue *uring.UnavailableError
	if !errors.As(err, &ue) {
		return "", "", false
	}
	return ue.Reason.String(), ue.Detail, true
}
