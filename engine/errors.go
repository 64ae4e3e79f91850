package engine

import (
	"errors"

	"github.com/pinion-net/pinion/internal/loop"
)

// Errors of the engine, of connections and of their handles. They are the
// values the loops return, so errors.Is matches them whichever way an error
// reached the handler (a return value, a completion, a close reason).
var (
	// ErrStopped is returned by Shutdown and Dial once the engine is shut down.
	ErrStopped = errors.New("engine: stopped")

	// ErrClosed is returned by operations on a connection that is closed
	// or closing, and passed to completions that could not run.
	ErrClosed = loop.ErrClosed
	// ErrLoopClosed is returned by Handle and Loop.Post when the loop has
	// stopped.
	ErrLoopClosed = loop.ErrLoopClosed
	// ErrWriteClosed is returned by Write after CloseWrite.
	ErrWriteClosed = loop.ErrWriteClosed
	// ErrOutboundOverflow closes a connection whose queued outbound bytes
	// would pass Config.WriteMax.
	ErrOutboundOverflow = loop.ErrOutboundOverflow
	// ErrInboundOverflow closes a connection whose handler left more
	// unconsumed input than Config.MaxInbound.
	ErrInboundOverflow = loop.ErrInboundOverflow
	// ErrIdleTimeout closes a connection that moved no byte for
	// Config.IdleTimeout.
	ErrIdleTimeout = loop.ErrIdleTimeout
	// ErrReadTimeout closes a connection whose read deadline passed.
	ErrReadTimeout = loop.ErrReadTimeout
	// ErrWriteTimeout closes a connection whose owed bytes made no progress
	// before its write deadline or Config.WriteTimeout.
	ErrWriteTimeout = loop.ErrWriteTimeout
	// ErrDialTimeout closes an outbound connection that did not connect
	// within Config.DialTimeout.
	ErrDialTimeout = loop.ErrDialTimeout
	// ErrShutdown is the close reason of connections closed by Shutdown.
	ErrShutdown = loop.ErrShutdown
	// ErrOffloadFull is returned by Offload under OffloadReject when the
	// pool (or the connection's own queue of tasks) is full: nothing was
	// queued, and the handler may answer "busy".
	ErrOffloadFull = loop.ErrOffloadFull
	// ErrNotListener is wrapped by Start's error for a Config.Listeners
	// entry that is not a listening TCP or unix stream socket; the error
	// names the descriptor and what is wrong with it.
	ErrNotListener = loop.ErrNotListener
	// ErrNoOffload is returned by Offload when the engine has no pool
	// (Config.OffloadWorkers < 0).
	ErrNoOffload = loop.ErrNoOffload
)

// PanicError is the close reason of a connection whose callback panicked.
// Match it with errors.As (the loops create it under their own name for the
// same struct, and errors.As converts).
type PanicError struct {
	Callback string // "OnData", "OnOpen", a completion, ...
	Value    any    // what was passed to panic
	Stack    []byte // the goroutine's stack at the panic
}

func (e *PanicError) Error() string { return (*loop.PanicError)(e).Error() }

// OpError wraps a system call failure on a connection: the close reason of
// a failed read, write or connect. Match it with errors.As, and the system
// error it wraps with errors.Is (errors.Is(err, syscall.ECONNRESET)).
type OpError struct {
	Op  string // "read", "write", "connect", ...
	Err error
}

func (e *OpError) Error() string { return (*loop.OpError)(e).Error() }

// Unwrap returns the system error.
func (e *OpError) Unwrap() error { return e.Err }

// The engine's error structs must stay the loops' own, field for field:
// these conversions compile only then, and errors.As relies on them.
var (
	_ = (*PanicError)((*loop.PanicError)(nil))
	_ = (*OpError)((*loop.OpError)(nil))
)
