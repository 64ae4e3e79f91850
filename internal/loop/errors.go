package loop

import (
	"errors"
	"fmt"
)

// Errors reported as close reasons, by Conn methods and by Handle methods.
var (
	// ErrClosed is returned by operations on a connection that is closed
	// or closing, and passed to completions that could not run.
	ErrClosed = errors.New("loop: connection closed")
	// ErrLoopClosed is returned by Handle and Post when the loop has stopped.
	ErrLoopClosed = errors.New("loop: loop stopped")
	// ErrWriteClosed is returned by Write after CloseWrite.
	ErrWriteClosed = errors.New("loop: write side closed")
	// ErrOutboundOverflow closes a connection whose queued outbound bytes
	// would pass Config.WriteMax.
	ErrOutboundOverflow = errors.New("loop: outbound buffer over its hard cap")
	// ErrInboundOverflow closes a connection whose handler left more
	// unconsumed input than Config.MaxInbound.
	ErrInboundOverflow = errors.New("loop: unconsumed input over its limit")
	// ErrIdleTimeout closes a connection that moved no byte for
	// Config.IdleTimeout.
	ErrIdleTimeout = errors.New("loop: idle timeout")
	// ErrReadTimeout closes a connection whose read deadline passed.
	ErrReadTimeout = errors.New("loop: read deadline exceeded")
	// ErrWriteTimeout closes a connection whose owed bytes made no progress
	// before its write deadline or Config.WriteTimeout.
	ErrWriteTimeout = errors.New("loop: write deadline exceeded")
	// ErrDialTimeout closes an outbound connection that did not connect in time.
	ErrDialTimeout = errors.New("loop: dial timeout")
	// ErrShutdown is the close reason of connections closed by Drain or Abort.
	ErrShutdown = errors.New("loop: shutting down")
)

// PanicError is the close reason of a connection whose callback panicked.
type PanicError struct {
	Callback string // "OnData", "OnOpen", a completion, ...
	Value    any    // what was passed to panic
	Stack    []byte // the goroutine's stack at the panic
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("loop: panic in %s: %v", e.Callback, e.Value)
}

// OpError wraps a system call failure on a connection.
type OpError struct {
	Op  string // "read", "write", "connect", ...
	Err error
}

func (e *OpError) Error() string { return "loop: " + e.Op + ": " + e.Err.Error() }

func (e *OpError) Unwrap() error { return e.Err }
