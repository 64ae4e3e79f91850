package codec

import (
	"bytes"
	"fmt"
	"math"
)

// Line decodes frames that end with "\n". A "\r" just before the "\n" is
// part of the delimiter too, so both "a\n" and "a\r\n" decode to "a".
type Line struct {
	// Max is the longest line accepted, in bytes, not counting its "\n" or
	// "\r\n". It must be at least 1.
	Max int
	// KeepDelimiter leaves the "\n" or "\r\n" at the end of each frame.
	KeepDelimiter bool
}

// NewLine returns a Line decoder for lines of at most max bytes.
func NewLine(max int) (*Line, error) {
	l := &Line{Max: max}
	if err := l.validate(); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *Line) validate() error {
	if l.Max < 1 || l.Max > math.MaxInt-2 {
		return fmt.Errorf("codec: line Max %d is out of range", l.Max)
	}
	return nil
}

// Decode returns the next line and consumes it, with its delimiter, from
// src; an empty line is a non-nil empty slice. It returns (nil, nil) when
// more input is needed, and a *FrameTooLargeError as soon as more than Max
// bytes arrived without ending the line: it looks at no more than Max+2
// bytes of src. The frame aliases src's buffer (see the package
// documentation).
func (l *Line) Decode(src Source) ([]byte, error) {
	if err := l.validate(); err != nil {
		return nil, err
	}
	w := src.Peek(l.Max + 2)
	i := bytes.IndexByte(w, '\n')
	if i < 0 {
		// A final "\r" may belong to a "\r\n" not yet arrived.
		n := len(w)
		if n > 0 && w[n-1] == '\r' {
			n--
		}
		if n > l.Max {
			return nil, &FrameTooLargeError{What: "line", Size: int64(n), Max: l.Max}
		}
		return nil, nil
	}
	end := i
	if end > 0 && w[end-1] == '\r' {
		end--
	}
	if end > l.Max {
		return nil, &FrameTooLargeError{What: "line", Size: int64(end), Max: l.Max}
	}
	if l.KeepDelimiter {
		end = i + 1
	}
	src.Discard(i + 1)
	return w[:end:end], nil
}

// AppendLine appends p and "\r\n" to dst and returns the extended slice.
// Line decodes the result back to p when p holds no "\n" and is no longer
// than the decoder's Max.
func AppendLine(dst, p []byte) []byte {
	dst = append(dst, p...)
	return append(dst, '\r', '\n')
}
