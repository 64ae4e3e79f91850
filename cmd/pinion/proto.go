package main

import (
	"fmt"
	"io"
)

// A protocol is the code both server models share: given the unconsumed
// input of a connection, it consumes what it can, writes the replies to w,
// and reports how many bytes it consumed. An error closes the connection
// after the replies written so far.
type protocol interface {
	serve(in []byte, w io.Writer) (int, error)
}

// echo sends every byte back, in order.
type echo struct{}

func (echo) serve(in []byte, w io.Writer) (int, error) {
	if len(in) == 0 {
		return 0, nil
	}
	return w.Write(in)
}

func newProtocol(name string) (protocol, error) {
	switch name {
	case "echo":
		return echo{}, nil
	}
	return nil, fmt.Errorf("unknown protocol %q (want echo)", name)
}
