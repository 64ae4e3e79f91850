package codec

import (
	"errors"
	"fmt"
)

// ErrCorrupt is wrapped by the errors a frame decoder returns for input that
// cannot be a frame of its configuration, such as a length field whose
// adjusted value is negative or shorter than the header it ends. Match it
// with errors.Is.
var ErrCorrupt = errors.New("codec: corrupt frame")

// FrameTooLargeError reports a frame (or header, line, bulk...) over its
// limit. It is returned as soon as the input proves the limit is passed:
// before anything of the declared size is allocated or waited for. Match it
// with errors.As.
type FrameTooLargeError struct {
	What string // "line", "frame", "length field frame", ...
	// Size is the size seen or declared. For a declared size it is exact,
	// saturated at math.MaxInt64 (an 8-byte length field can declare more);
	// for a frame still missing its delimiter it is the length seen so far,
	// a lower bound.
	Size int64
	Max  int    // the limit that Size passes
	Unit string // what Size counts: "" means bytes; "elements" for array counts
}

// Error returns "codec: <What> of <Size> <Unit> exceeds the limit of <Max>".
func (e *FrameTooLargeError) Error() string {
	unit := e.Unit
	if unit == "" {
		unit = "bytes"
	}
	return fmt.Sprintf("codec: %s of %d %s exceeds the limit of %d", e.What, e.Size, unit, e.Max)
}
