package uring

import "syscall"

// CQE is one completion as Reap returns it.
type CQE struct {
	Token Token  // the token of the submission, operation included
	Res   int32  // the result: bytes, a new fd, 0, or a negated errno
	Flags uint32 // FlagMore, FlagBuffer, FlagSockNonempty, FlagBufMore and the buffer id

	off uint32 // where the bytes start in the provided buffer (Ring.Bytes)
}

// More reports whether the request stays armed and will post more
// completions (multishot accept and receive).
func (c CQE) More() bool { return c.Flags&FlagMore != 0 }

// Buffer returns the id of the provided buffer that holds the bytes of a
// receive completion, and whether there is one. Ring.Bytes returns the
// bytes themselves.
func (c CQE) Buffer() (uint16, bool) {
	return uint16(c.Flags >> cqeBufferShift), c.Flags&FlagBuffer != 0
}

// Err returns the error of a failed operation (a syscall.Errno, matched with
// errors.Is against the x/sys/unix constants), or nil when Res is not
// negative.
func (c CQE) Err() error {
	if c.Res >= 0 {
		return nil
	}
	return syscall.Errno(-c.Res)
}
