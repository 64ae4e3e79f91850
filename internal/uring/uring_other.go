//go:build !linux || !(amd64 || arm64)

package uring

import "time"

// Ring is unavailable on this system; New always fails.
type Ring struct{}

// New returns an *UnavailableError matching ErrUnsupported: io_uring exists
// only on Linux, and this package supports it on amd64 and arm64.
func New(cfg Config) (*Ring, error) {
	if cfg.ForceUnavailable {
		return nil, &UnavailableError{Reason: ReasonForced, Detail: "Config.ForceUnavailable is set"}
	}
	return nil, &UnavailableError{Reason: ReasonNotLinux, Err: ErrUnsupported}
}

// Close does nothing.
func (r *Ring) Close() error { return nil }

// Wake returns ErrUnsupported.
func (r *Ring) Wake() error { return ErrUnsupported }

// SubmitAndWait returns ErrUnsupported.
func (r *Ring) SubmitAndWait(time.Duration) error { return ErrUnsupported }
