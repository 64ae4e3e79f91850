package codec_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/pinion-net/pinion/codec"
)

// frameDecoder is what every framing decoder implements.
type frameDecoder interface {
	Decode(codec.Source) ([]byte, error)
}

// frameResult is what decoding an input yields: copies of the frames, and
// how decoding stopped.
type frameResult struct {
	frames   []string
	err      error
	consumed int
}

// frameDecodeCuts feeds in to d in pieces ending at the increasing offsets
// cuts (and finally len(in)), decoding all it can after each piece, the way
// a connection would see the input arrive.
func frameDecodeCuts(d frameDecoder, in []byte, cuts ...int) frameResult {
	var r frameResult
	src := &codec.Bytes{}
	for _, end := range append(cuts, len(in)) {
		src.B = in[r.consumed:end]
		for {
			f, err := d.Decode(src)
			if err != nil {
				r.err = err
				r.consumed = end - len(src.B)
				return r
			}
			if f == nil {
				break
			}
			r.frames = append(r.frames, string(f))
		}
		r.consumed = end - len(src.B)
	}
	return r
}

// frameErrKind names the class of err, the part of a decoding error that
// must not depend on how the input was split.
func frameErrKind(err error) string {
	var tl *codec.FrameTooLargeError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &tl):
		return "too large"
	case errors.Is(err, codec.ErrCorrupt):
		return "corrupt"
	default:
		return "other"
	}
}

// frameCase is one table entry shared by the decoder tests.
type frameCase struct {
	name string
	dec  frameDecoder
	in   string
	want []string // frames, in order
	err  string   // frameErrKind of the final error
	size int64    // FrameTooLargeError.Size when the input arrives at once
	rest int      // bytes left unconsumed at the end
}

// frameRun checks each case fed at once, byte by byte, and split at every
// position: all must give the same frames and the same kind of error.
func frameRun(t *testing.T, cases []frameCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := []byte(c.in)
			whole := frameDecodeCuts(c.dec, in)
			frameCheck(t, "at once", whole, c)
			if c.err == "too large" {
				var tl *codec.FrameTooLargeError
				if !errors.As(whole.err, &tl) {
					t.Fatalf("at once: error %v is not a *FrameTooLargeError", whole.err)
				}
				if tl.Size != c.size {
					t.Errorf("at once: Size = %d, want %d", tl.Size, c.size)
				}
			}
			each := make([]int, 0, len(in))
			for i := range len(in) {
				each = append(each, i)
			}
			frameCheck(t, "byte by byte", frameDecodeCuts(c.dec, in, each...), c)
			for k := range len(in) + 1 {
				frameCheck(t, fmt.Sprintf("split at %d", k), frameDecodeCuts(c.dec, in, k), c)
			}
		})
	}
}

func frameCheck(t *testing.T, how string, got frameResult, c frameCase) {
	t.Helper()
	if !slices.Equal(got.frames, c.want) {
		t.Errorf("%s: frames = %q, want %q", how, got.frames, c.want)
	}
	if k := frameErrKind(got.err); k != c.err {
		t.Errorf("%s: error = %v (%q), want kind %q", how, got.err, k, c.err)
	}
	if c.err == "" {
		if rest := len(c.in) - got.consumed; rest != c.rest {
			t.Errorf("%s: %d bytes left, want %d", how, rest, c.rest)
		}
	}
}

// TestFrameSteadyStateAllocs decodes a frame with each decoder and checks
// that it allocates nothing.
func TestFrameSteadyStateAllocs(t *testing.T) {
	line, _ := codec.NewLine(64)
	crlf := &codec.Line{Max: 64, KeepDelimiter: true}
	delim, _ := codec.NewDelimiter([]byte("\r\n\r\n"), 64)
	fixed, _ := codec.NewFixed(8)
	lf, _ := codec.NewLengthField(codec.LengthField{Max: 64, Length: 2, Strip: 2})
	lf3, _ := codec.NewLengthField(codec.LengthField{Max: 64, Length: 3, Order: binary.LittleEndian, Adjustment: -3})
	cases := []struct {
		name string
		dec  frameDecoder
		in   string
	}{
		{"Line", line, "PING\r\n"},
		{"LineKeep", crlf, "PING\r\n"},
		{"Delimiter", delim, "a: b\r\n\r\n"},
		{"Fixed", fixed, "01234567"},
		{"LengthField", lf, "\x00\x04PING"},
		{"LengthField3", lf3, "\x07\x00\x00PING"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := []byte(c.in)
			src := &codec.Bytes{}
			allocs := testing.AllocsPerRun(100, func() {
				src.B = in
				if f, err := c.dec.Decode(src); f == nil || err != nil {
					t.Fatalf("Decode = %q, %v", f, err)
				}
			})
			if allocs != 0 {
				t.Errorf("Decode allocates %v times per frame, want 0", allocs)
			}
		})
	}
}

// TestFrameTooLargeError checks the error's text and that errors.As finds
// it through wrapping.
func TestFrameTooLargeError(t *testing.T) {
	err := fmt.Errorf("conn 7: %w", &codec.FrameTooLargeError{What: "line", Size: 70000, Max: 65536})
	var tl *codec.FrameTooLargeError
	if !errors.As(err, &tl) {
		t.Fatalf("errors.As(%v) = false", err)
	}
	if tl.What != "line" || tl.Size != 70000 || tl.Max != 65536 {
		t.Errorf("got %+v", *tl)
	}
	const want = "codec: line of 70000 bytes exceeds the limit of 65536"
	if got := tl.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !strings.HasPrefix(codec.ErrCorrupt.Error(), "codec: ") {
		t.Errorf("ErrCorrupt = %q, want the codec: prefix", codec.ErrCorrupt)
	}
}

// TestFrameAppendAfterFrame checks that appending to a returned frame
// cannot overwrite the input that follows it.
func TestFrameAppendAfterFrame(t *testing.T) {
	line, _ := codec.NewLine(16)
	src := &codec.Bytes{B: []byte("ab\ncd\n")}
	f, err := line.Decode(src)
	if err != nil || string(f) != "ab" {
		t.Fatalf("Decode = %q, %v", f, err)
	}
	_ = append(f, "XYZ"...)
	if !bytes.Equal(src.B, []byte("cd\n")) {
		t.Errorf("input after append = %q, want %q", src.B, "cd\n")
	}
}

// TestFrameZeroValue checks that a decoder that skipped its constructor
// reports its configuration instead of misbehaving.
func TestFrameZeroValue(t *testing.T) {
	for _, d := range []frameDecoder{&codec.Line{}, &codec.Delimiter{}, &codec.Fixed{}, &codec.LengthField{}} {
		src := &codec.Bytes{B: []byte("abc\n\x00")}
		f, err := d.Decode(src)
		if f != nil || err == nil {
			t.Errorf("%T zero value: Decode = %q, %v; want an error", d, f, err)
		}
		if frameErrKind(err) != "other" {
			t.Errorf("%T zero value: error %v is a decoding error, want a configuration error", d, err)
		}
		if src.Buffered() != 5 {
			t.Errorf("%T zero value: consumed input", d)
		}
	}
}
