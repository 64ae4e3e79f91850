package uring

import "fmt"

// Probe is what the kernel said it offers when the ring was set up: the rung
// of the setup ladder, the feature bits, the supported opcodes and whether
// the provided buffers are consumed incrementally.
type Probe struct {
	Mode        Mode
	Features    uint32
	Opcodes     [4]uint64 // bit n set: opcode n supported
	Incremental bool      // see Ring.Incremental
}

// Supports reports whether the kernel supports opcode (enum io_uring_op).
func (p Probe) Supports(opcode uint8) bool {
	return p.Opcodes[opcode/64]&(1<<(opcode%64)) != 0
}

// String returns the probe in one line for a log.
func (p Probe) String() string {
	n := 0
	for op := range 256 {
		if p.Supports(uint8(op)) {
			n++
		}
	}
	bufs := "whole"
	if p.Incremental {
		bufs = "incremental"
	}
	return fmt.Sprintf("mode %v, features %#x, %d opcodes, %s buffers", p.Mode, p.Features, n, bufs)
}
