package uring

import "fmt"

// Probe is what the kernel said it offers when the ring was set up: the rung
// of the setup ladder, the feature bits and the supported opcodes.
type Probe struct {
	Mode     Mode
	Features uint32
	Opcodes  [4]uint64 // bit n set: opcode n supported
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
	return fmt.Sprintf("mode %v, features %#x, %d opcodes", p.Mode, p.Features, n)
}
