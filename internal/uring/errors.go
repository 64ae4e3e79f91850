package uring

import (
	"errors"
	"fmt"
)

var (
	// ErrUnavailable is matched (errors.Is) by every error New returns when
	// the ring cannot be used; the *UnavailableError says why.
	ErrUnavailable = errors.New("uring: io_uring unavailable")

	// ErrUnsupported is returned, wrapped in an *UnavailableError, on systems
	// other than Linux.
	ErrUnsupported = errors.New("uring: io_uring is not supported on this system")

	// ErrClosed is returned by methods called after Close.
	ErrClosed = errors.New("uring: ring closed")

	// ErrTooManyBuffers is returned by Sendmsg when given more buffers than
	// Config.MaxIovecs.
	ErrTooManyBuffers = errors.New("uring: too many buffers for one send")

	// ErrWrongThread is returned when the kernel refuses a submission because
	// it came from a thread other than the ring's single issuer: the owner
	// goroutine was not locked to its OS thread.
	ErrWrongThread = errors.New("uring: submission from a thread other than the ring's single issuer")
)

// Reason classifies why a ring cannot be used, so that a caller falling back
// to epoll can log one clear line.
type Reason uint8

// The reasons New may give.
const (
	// ReasonForced: Config.ForceUnavailable was set (tests of the fallback).
	ReasonForced Reason = iota + 1
	// ReasonNotLinux: io_uring exists only on Linux.
	ReasonNotLinux
	// ReasonDisabled: the sysctl kernel.io_uring_disabled forbids it.
	ReasonDisabled
	// ReasonPermission: io_uring_setup failed with EPERM while the sysctl
	// allows it, which means a seccomp filter (the default of several
	// container runtimes) or a security module.
	ReasonPermission
	// ReasonNoSyscall: io_uring_setup failed with ENOSYS: a kernel built
	// without io_uring, older than 5.1, or a seccomp filter answering ENOSYS.
	ReasonNoSyscall
	// ReasonMissingFeature: the kernel lacks a setup flag, feature or
	// behaviour the backend needs (see UnavailableError.Detail).
	ReasonMissingFeature
	// ReasonMissingOpcode: the kernel lacks an operation the backend needs.
	ReasonMissingOpcode
	// ReasonResources: out of memory, locked memory or file descriptors.
	ReasonResources
	// ReasonOther: any other failure while setting the ring up.
	ReasonOther
)

// String returns a short name for r.
func (r Reason) String() string {
	switch r {
	case ReasonForced:
		return "forced"
	case ReasonNotLinux:
		return "not linux"
	case ReasonDisabled:
		return "disabled by sysctl"
	case ReasonPermission:
		return "permission denied"
	case ReasonNoSyscall:
		return "no system call"
	case ReasonMissingFeature:
		return "missing feature"
	case ReasonMissingOpcode:
		return "missing opcode"
	case ReasonResources:
		return "out of resources"
	case ReasonOther:
		return "setup failed"
	}
	return "unknown"
}

// UnavailableError says why a ring could not be set up. It matches
// ErrUnavailable and, through Err, the underlying errno (or ErrUnsupported).
type UnavailableError struct {
	Reason Reason
	Detail string // what was missing or refused, in words
	Err    error  // the system error, if any
}

// Error returns "uring: io_uring unavailable (reason): detail: err".
func (e *UnavailableError) Error() string {
	s := fmt.Sprintf("%v (%v)", ErrUnavailable, e.Reason)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns ErrUnavailable and the underlying error.
func (e *UnavailableError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrUnavailable}
	}
	return []error{ErrUnavailable, e.Err}
}
