package engine

import "github.com/pinion-net/pinion/internal/loop"

// Handler receives connection events; see loop.Handler.
type Handler = loop.Handler

// BaseHandler is a Handler that does nothing (and discards input): embed it
// and override what you need.
type BaseHandler = loop.BaseHandler

// Conn is a connection as seen on its loop; see loop.Conn.
type Conn = loop.Conn

// Handle is the goroutine-safe handle of a connection; see loop.Handle.
type Handle = loop.Handle
