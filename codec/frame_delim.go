package codec

import (
	"bytes"
	"errors"
	"fmt"
	"math"
)

// Delimiter decodes frames that end with an arbitrary byte sequence, such
// as "\x00" or "\r\n\r\n". A frame ends at the first occurrence of Delim.
type Delimiter struct {
	// Delim ends every frame. It must not be empty, and must not change
	// while the decoder is in use (NewDelimiter copies it).
	Delim []byte
	// Max is the longest frame accepted, in bytes, not counting Delim. It
	// must be at least 1.
	Max int
	// KeepDelimiter leaves Delim at the end of each frame.
	KeepDelimiter bool
}

// NewDelimiter returns a Delimiter decoder for frames of at most max bytes
// ending with a copy of delim.
func NewDelimiter(delim []byte, max int) (*Delimiter, error) {
	d := &Delimiter{Delim: bytes.Clone(delim), Max: max}
	if err := d.validate(); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *Delimiter) validate() error {
	if len(d.Delim) == 0 {
		return errors.New("codec: empty delimiter")
	}
	if d.Max < 1 || d.Max > math.MaxInt-len(d.Delim) {
		return fmt.Errorf("codec: delimiter Max %d is out of range", d.Max)
	}
	return nil
}

// Decode returns the next frame and consumes it, with its delimiter, from
// src; an empty frame is a non-nil empty slice. It returns (nil, nil) when
// more input is needed, and a *FrameTooLargeError as soon as the input
// proves the frame is longer than Max: it looks at no more than
// Max+len(Delim) bytes of src. The frame aliases src's buffer (see the
// package documentation).
func (d *Delimiter) Decode(src Source) ([]byte, error) {
	if err := d.validate(); err != nil {
		return nil, err
	}
	w := src.Peek(d.Max + len(d.Delim))
	i := bytes.Index(w, d.Delim)
	if i < 0 {
		if len(w) > d.Max {
			// The delimiter may still start in the last bytes seen, so
			// only the bytes before that partial match surely belong
			// to the frame.
			if n := len(w) - delimPartial(w, d.Delim); n > d.Max {
				return nil, &FrameTooLargeError{What: "delimited frame", Size: int64(n), Max: d.Max}
			}
		}
		return nil, nil
	}
	// The window bounds i by Max: i+len(Delim) <= len(w) <= Max+len(Delim).
	n := i + len(d.Delim)
	end := i
	if d.KeepDelimiter {
		end = n
	}
	src.Discard(n)
	return w[:end:end], nil
}

// delimPartial returns the length of the longest suffix of w that is a
// proper prefix of delim: the part of a delimiter that may have begun.
func delimPartial(w, delim []byte) int {
	for k := min(len(delim)-1, len(w)); k > 0; k-- {
		if bytes.Equal(w[len(w)-k:], delim[:k]) {
			return k
		}
	}
	return 0
}

// AppendDelimited appends p and delim to dst and returns the extended slice.
// Delimiter decodes the result back to p when the first occurrence of delim
// in p+delim is the appended one (p holds no delim, and no end of p and
// start of delim form one either) and p is no longer than the decoder's Max.
func AppendDelimited(dst, p, delim []byte) []byte {
	dst = append(dst, p...)
	return append(dst, delim...)
}
