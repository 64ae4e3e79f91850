package engine

import "github.com/pinion-net/pinion/codec"

// A connection is a codec.Source: decoders read frames straight from the
// input a handler sees in OnData.
var _ codec.Source = (*Conn)(nil)
