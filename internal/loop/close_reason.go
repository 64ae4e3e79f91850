package loop

import (
	"errors"
	"io"
	"syscall"
)

// CloseReason classifies why a connection closed, for the counters
// (Counters.ClosedBy) and their exposition.
type CloseReason uint8

// The close reasons. The error handed to OnClose decides: see
// ReasonOf.
const (
	CloseLocal            CloseReason = iota // the handler closed it without a reason
	ClosePeer                                // the peer closed its side (EOF)
	CloseIdle                                // ErrIdleTimeout
	CloseReadTimeout                         // ErrReadTimeout
	CloseWriteTimeout                        // ErrWriteTimeout
	CloseDialTimeout                         // ErrDialTimeout
	CloseInboundOverflow                     // ErrInboundOverflow
	CloseOutboundOverflow                    // ErrOutboundOverflow
	CloseReset                               // the peer reset it (ECONNRESET, EPIPE)
	ClosePanic                               // a callback or offloaded task panicked (*PanicError)
	CloseShutdown                            // ErrShutdown: the loop drained or aborted
	CloseHandler                             // the handler closed it with a reason of its own
	CloseError                               // another socket error (*OpError)

	// NumCloseReasons is the number of close reasons.
	NumCloseReasons = iota
)

// String returns the reason's label value, e.g. "read_timeout".
func (r CloseReason) String() string {
	switch r {
	case CloseLocal:
		return "local"
	case ClosePeer:
		return "peer"
	case CloseIdle:
		return "idle"
	case CloseReadTimeout:
		return "read_timeout"
	case CloseWriteTimeout:
		return "write_timeout"
	case CloseDialTimeout:
		return "dial_timeout"
	case CloseInboundOverflow:
		return "inbound_overflow"
	case CloseOutboundOverflow:
		return "outbound_overflow"
	case CloseReset:
		return "reset"
	case ClosePanic:
		return "panic"
	case CloseShutdown:
		return "shutdown"
	case CloseHandler:
		return "handler"
	case CloseError:
		return "error"
	}
	return "unknown"
}

// ReasonOf classifies the error handed to OnClose.
func ReasonOf(err error) CloseReason {
	switch err {
	case nil, ErrClosed:
		return CloseLocal
	case io.EOF:
		return ClosePeer
	case ErrIdleTimeout:
		return CloseIdle
	case ErrReadTimeout:
		return CloseReadTimeout
	case ErrWriteTimeout:
		return CloseWriteTimeout
	case ErrDialTimeout:
		return CloseDialTimeout
	case ErrInboundOverflow:
		return CloseInboundOverflow
	case ErrOutboundOverflow:
		return CloseOutboundOverflow
	case ErrShutdown:
		return CloseShutdown
	}
	if _, ok := errors.AsType[*PanicError](err); ok {
		return ClosePanic
	}
	if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return CloseReset
	}
	if _, ok := errors.AsType[*OpError](err); ok {
		return CloseError
	}
	return CloseHandler
}
