package codec

import "fmt"

// Fixed decodes frames of a fixed size.
type Fixed struct {
	// Size is the length of every frame, in bytes. It must be at least 1.
	Size int
}

// NewFixed returns a Fixed decoder for frames of size bytes.
func NewFixed(size int) (*Fixed, error) {
	f := &Fixed{Size: size}
	if err := f.validate(); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *Fixed) validate() error {
	if f.Size < 1 {
		return fmt.Errorf("codec: fixed frame Size %d is not positive", f.Size)
	}
	return nil
}

// Decode returns the next Size bytes and consumes them from src, or
// (nil, nil) while fewer are buffered. The frame aliases src's buffer (see
// the package documentation).
func (f *Fixed) Decode(src Source) ([]byte, error) {
	if err := f.validate(); err != nil {
		return nil, err
	}
	w := src.Peek(f.Size)
	if len(w) < f.Size {
		return nil, nil
	}
	src.Discard(f.Size)
	return w[:f.Size:f.Size], nil
}
