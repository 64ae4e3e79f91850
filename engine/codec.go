package engine

import (
	"github.com/pinion-net/pinion/codec"
	"github.com/pinion-net/pinion/internal/loop"
)

// A connection is a codec.Source: decoders read frames straight from the
// input a handler sees in OnData.
var _ codec.Source = (*loop.Conn)(nil)
