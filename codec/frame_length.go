package codec

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
)

// LengthField decodes frames that carry their own length in a header,
// with the semantics of Netty's LengthFieldBasedFrameDecoder. A frame on
// the wire is
//
//	| Offset bytes | Length bytes: value | the rest |
//
// and its length, header included, is Offset + Length + value + Adjustment.
// Decode returns that frame without its first Strip bytes. Common shapes:
//
//   - value counts the bytes after the field: Adjustment 0;
//   - value counts the whole frame, field included: Adjustment
//     -(Offset+Length);
//   - only the body is wanted: Strip Offset+Length.
//
// Max bounds the length on the wire. Decode refuses a frame over it, or a
// value that gives a negative length or one shorter than the header, as
// soon as the header has arrived, without waiting for the body.
type LengthField struct {
	// Max is the longest frame accepted, header included. It must hold
	// the header: Offset+Length <= Max.
	Max int
	// Offset is the number of bytes before the length field.
	Offset int
	// Length is the width of the length field in bytes: 1, 2, 3, 4 or 8.
	// The value is unsigned.
	Length int
	// Order is the byte order of the length field; nil means
	// binary.BigEndian, network order. A 3-byte field needs
	// binary.BigEndian, binary.LittleEndian or binary.NativeEndian.
	Order binary.ByteOrder
	// Adjustment is added to Offset+Length+value to give the frame's
	// length; negative when the value counts bytes before its end.
	Adjustment int
	// Strip is the number of bytes cut from the front of each returned
	// frame, such as Offset+Length to drop the header.
	Strip int
}

// NewLengthField returns a copy of cfg after checking that it describes
// frames that can exist: a supported Length and Order, a header that fits
// Max, an Adjustment that lets some value give a length between the header
// and Max, and a Strip no longer than the longest such frame.
func NewLengthField(cfg LengthField) (*LengthField, error) {
	f := cfg
	if err := f.validate(); err != nil {
		return nil, err
	}
	return &f, nil
}

func (f *LengthField) validate() error {
	switch f.Length {
	case 1, 2, 4, 8:
	case 3:
		if _, ok := lengthBigEndian(f.Order); !ok {
			return fmt.Errorf("codec: a 3-byte length field needs BigEndian, LittleEndian or NativeEndian, not %v", f.Order)
		}
	default:
		return fmt.Errorf("codec: length field Length %d is not 1, 2, 3, 4 or 8", f.Length)
	}
	if f.Max < 1 {
		return fmt.Errorf("codec: length field Max %d is not positive", f.Max)
	}
	if f.Offset < 0 || f.Offset > f.Max-f.Length {
		return fmt.Errorf("codec: length field header (Offset %d + Length %d) does not fit Max %d", f.Offset, f.Length, f.Max)
	}
	h := f.Offset + f.Length
	if f.Adjustment > f.Max-h {
		return fmt.Errorf("codec: length field Adjustment %d makes every frame longer than Max %d", f.Adjustment, f.Max)
	}
	longest, ok := f.frameLen(lengthMax(f.Length))
	if !ok || longest < uint64(h) {
		return fmt.Errorf("codec: length field Adjustment %d makes every frame shorter than its %d-byte header", f.Adjustment, h)
	}
	longest = min(longest, uint64(f.Max))
	if f.Strip < 0 || uint64(f.Strip) > longest {
		return fmt.Errorf("codec: length field Strip %d is out of range [0, %d], the longest frame", f.Strip, longest)
	}
	return nil
}

// Decode returns the next frame, less its first Strip bytes, and consumes
// the whole frame from src; an empty result is a non-nil empty slice. It
// returns (nil, nil) when more input is needed. As soon as the header is
// buffered it checks the declared length, Offset+Length+value+Adjustment:
// over Max gives a *FrameTooLargeError with that length as Size (saturated
// at math.MaxInt64); negative, shorter than the header or shorter than
// Strip gives an error wrapping ErrCorrupt. The frame aliases src's buffer (see the package
// documentation).
func (f *LengthField) Decode(src Source) ([]byte, error) {
	if err := f.validate(); err != nil {
		return nil, err
	}
	h := f.Offset + f.Length
	w := src.Peek(h)
	if len(w) < h {
		return nil, nil
	}
	v := f.value(w[f.Offset:h])
	n, ok := f.frameLen(v)
	switch {
	case !ok:
		return nil, fmt.Errorf("%w: length field value %d adjusted by %d is negative", ErrCorrupt, v, f.Adjustment)
	case n < uint64(h):
		return nil, fmt.Errorf("%w: frame length %d is shorter than its %d-byte header", ErrCorrupt, n, h)
	case n > uint64(f.Max):
		return nil, &FrameTooLargeError{What: "length field frame", Size: int64(min(n, math.MaxInt64)), Max: f.Max}
	case n < uint64(f.Strip):
		return nil, fmt.Errorf("%w: cannot strip %d bytes from a frame of %d", ErrCorrupt, f.Strip, n)
	}
	size := int(n)
	w = src.Peek(size)
	if len(w) < size {
		return nil, nil
	}
	src.Discard(size)
	return w[f.Strip:size:size], nil
}

// Append appends a frame carrying payload to dst and returns the extended
// slice, which f decodes back to payload. That is well defined only when
// the decoded frame is exactly the bytes after the length field, so Append
// requires Strip == Offset+Length and writes the Offset bytes before the
// field as zeros (set them in the result when the protocol gives them a
// meaning). A frame over Max, or a value too large for the field's width,
// gives a *FrameTooLargeError; a payload shorter than a positive
// Adjustment gives an error too. On error dst is returned unchanged.
func (f LengthField) Append(dst, payload []byte) ([]byte, error) {
	if err := f.validate(); err != nil {
		return dst, err
	}
	h := f.Offset + f.Length
	if f.Strip != h {
		return dst, fmt.Errorf("codec: length field Append needs Strip == Offset+Length = %d, not %d", h, f.Strip)
	}
	if len(payload) > f.Max-h {
		return dst, &FrameTooLargeError{What: "length field frame", Size: int64(h) + int64(len(payload)), Max: f.Max}
	}
	// h+len(payload) = h + v + Adjustment, so v = len(payload) - Adjustment,
	// which fits a uint64: len(payload) < 2^63 and -Adjustment <= 2^63.
	var v uint64
	if adj := f.Adjustment; adj >= 0 {
		if len(payload) < adj {
			return dst, fmt.Errorf("codec: a %d-byte payload is shorter than the length field Adjustment %d", len(payload), adj)
		}
		v = uint64(len(payload) - adj)
	} else {
		v = uint64(len(payload)) + uint64(-(adj + 1)) + 1
	}
	if lim := lengthMax(f.Length); v > lim {
		return dst, &FrameTooLargeError{What: "length field value", Size: int64(min(v, math.MaxInt64)), Max: int(min(lim, math.MaxInt))}
	}
	dst = append(dst, make([]byte, h)...)
	field := dst[len(dst)-f.Length:]
	o := lengthOrder(f.Order)
	switch f.Length {
	case 1:
		field[0] = byte(v)
	case 2:
		o.PutUint16(field, uint16(v))
	case 3:
		if big, _ := lengthBigEndian(o); big {
			field[0], field[1], field[2] = byte(v>>16), byte(v>>8), byte(v)
		} else {
			field[0], field[1], field[2] = byte(v), byte(v>>8), byte(v>>16)
		}
	case 4:
		o.PutUint32(field, uint32(v))
	default:
		o.PutUint64(field, v)
	}
	return append(dst, payload...), nil
}

// frameLen returns Offset+Length+v+Adjustment, saturated at
// math.MaxUint64; ok is false when it is negative. It needs a validated
// header and Adjustment <= Max-(Offset+Length), so that the constant part
// cannot overflow an int64.
func (f *LengthField) frameLen(v uint64) (n uint64, ok bool) {
	base := int64(f.Offset+f.Length) + int64(f.Adjustment)
	if base >= 0 {
		n, carry := bits.Add64(v, uint64(base), 0)
		if carry != 0 {
			return math.MaxUint64, true
		}
		return n, true
	}
	neg := uint64(-(base + 1)) + 1 // -base, even for math.MinInt64
	if v < neg {
		return 0, false
	}
	return v - neg, true
}

// value reads the length field b, which has Length bytes.
func (f *LengthField) value(b []byte) uint64 {
	o := lengthOrder(f.Order)
	switch f.Length {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(o.Uint16(b))
	case 3:
		if big, _ := lengthBigEndian(o); big {
			return uint64(b[0])<<16 | uint64(b[1])<<8 | uint64(b[2])
		}
		return uint64(b[2])<<16 | uint64(b[1])<<8 | uint64(b[0])
	case 4:
		return uint64(o.Uint32(b))
	default:
		return o.Uint64(b)
	}
}

// lengthMax returns the largest value of an n-byte field.
func lengthMax(n int) uint64 {
	if n >= 8 {
		return math.MaxUint64
	}
	return 1<<(8*n) - 1
}

func lengthOrder(o binary.ByteOrder) binary.ByteOrder {
	if o == nil {
		return binary.BigEndian
	}
	return o
}

// lengthBigEndian reports whether o, nil meaning binary.BigEndian, is big
// endian; ok is false when o is none of the standard orders, whose
// 3-byte layout cannot be asked of the binary.ByteOrder interface.
func lengthBigEndian(o binary.ByteOrder) (big, ok bool) {
	switch o {
	case nil, binary.BigEndian:
		return true, true
	case binary.LittleEndian:
		return false, true
	case binary.NativeEndian:
		return binary.NativeEndian.Uint16([]byte{0, 1}) == 1, true
	}
	return false, false
}
