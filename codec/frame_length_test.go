package codec_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/pinion-net/pinion/codec"
)

// framePut writes v into b, len(b) bytes wide, in the given order, the
// test's own encoding to check the decoder against.
func framePut(b []byte, v uint64, big bool) {
	for i := range b {
		shift := 8 * i
		if big {
			shift = 8 * (len(b) - 1 - i)
		}
		b[i] = byte(v >> shift)
	}
}

// frameLayout describes one shape of length-prefixed frame, generic over
// the field's width and order.
type frameLayout struct {
	name    string
	prefix  string // the Offset bytes before the field
	trailer string // header bytes after the field
	whole   bool   // the value counts the whole frame, not the body
	adjust  func(width int) int
	strip   func(width int) int
}

var frameLayouts = []frameLayout{
	{name: "body count", adjust: func(int) int { return 0 }, strip: func(int) int { return 0 }},
	{name: "body count, header stripped", adjust: func(int) int { return 0 }, strip: func(w int) int { return w }},
	{name: "whole count", whole: true, adjust: func(w int) int { return -w }, strip: func(int) int { return 0 }},
	{name: "whole count, header stripped", whole: true, adjust: func(w int) int { return -w }, strip: func(w int) int { return w }},
	{name: "prefix", prefix: "\xca\xfe", adjust: func(int) int { return 0 }, strip: func(int) int { return 0 }},
	{name: "trailer", trailer: "\xab\xcd", adjust: func(int) int { return 2 }, strip: func(int) int { return 0 }},
	{name: "prefix and trailer, keep trailer", prefix: "\x01", trailer: "\x02", adjust: func(int) int { return 1 }, strip: func(w int) int { return 1 + w }},
	{name: "prefix and trailer, whole count", prefix: "\x01", trailer: "\x02", whole: true, adjust: func(w int) int { return -(1 + w) }, strip: func(w int) int { return 1 + w }},
	{name: "prefix, strip part of it", prefix: "\x07\x08\x09", adjust: func(int) int { return 0 }, strip: func(int) int { return 2 }},
}

// wire builds one frame of layout l around body.
func (l frameLayout) wire(width int, big bool, body string) []byte {
	b := []byte(l.prefix)
	field := make([]byte, width)
	v := uint64(len(body)) // the trailer is in the Adjustment
	if l.whole {
		v += uint64(len(l.prefix) + width + len(l.trailer))
	}
	framePut(field, v, big)
	b = append(b, field...)
	b = append(b, l.trailer...)
	return append(b, body...)
}

// TestLengthFieldMatrix decodes every layout with every width and order:
// two frames, the second one empty, and the start of a third.
func TestLengthFieldMatrix(t *testing.T) {
	orders := []struct {
		name  string
		order binary.ByteOrder
		big   bool
	}{{"BE", binary.BigEndian, true}, {"LE", binary.LittleEndian, false}, {"nil", nil, true}}
	var cases []frameCase
	for _, width := range []int{1, 2, 3, 4, 8} {
		for _, o := range orders {
			for _, l := range frameLayouts {
				f, err := codec.NewLengthField(codec.LengthField{
					Max: 200, Offset: len(l.prefix), Length: width, Order: o.order,
					Adjustment: l.adjust(width), Strip: l.strip(width),
				})
				if err != nil {
					t.Fatalf("%d %s %s: %v", width, o.name, l.name, err)
				}
				first := l.wire(width, o.big, "pinion frames")
				second := l.wire(width, o.big, "")
				third := l.wire(width, o.big, "xyz")
				in := append(append(append([]byte{}, first...), second...), third[:len(third)-1]...)
				cases = append(cases, frameCase{
					name: fmt.Sprintf("%d %s %s", width, o.name, l.name),
					dec:  f,
					in:   string(in),
					want: []string{string(first[f.Strip:]), string(second[f.Strip:])},
					rest: len(third) - 1,
				})
			}
		}
	}
	frameRun(t, cases)
}

// TestLengthFieldDecode covers values at the edges of the limits.
func TestLengthFieldDecode(t *testing.T) {
	be2 := &codec.LengthField{Max: 10, Length: 2}
	whole := &codec.LengthField{Max: 10, Length: 2, Adjustment: -2}
	strip := &codec.LengthField{Max: 10, Length: 1, Adjustment: -1, Strip: 4}
	le8 := &codec.LengthField{Max: 1 << 20, Length: 8, Order: binary.LittleEndian, Strip: 8}
	frameRun(t, []frameCase{
		{name: "Max", dec: be2, in: "\x00\x08abcdefgh", want: []string{"\x00\x08abcdefgh"}},
		{name: "Max+1", dec: be2, in: "\x00\x09", err: "too large", size: 11},
		{name: "largest 2-byte value", dec: be2, in: "\xff\xff", err: "too large", size: 65537},
		{name: "good then too large", dec: be2, in: "\x00\x01a\x01\x00", want: []string{"\x00\x01a"}, err: "too large", size: 258},
		{name: "whole count, header only", dec: whole, in: "\x00\x02\x00\x03x", want: []string{"\x00\x02", "\x00\x03x"}},
		{name: "whole count, negative", dec: whole, in: "\x00\x01", err: "corrupt"},
		{name: "whole count, zero", dec: whole, in: "\x00\x00", err: "corrupt"},
		{name: "whole count, Max+1", dec: whole, in: "\x00\x0b", err: "too large", size: 11},
		{name: "strip inside frame", dec: strip, in: "\x05abcd\x04abc", want: []string{"d", ""}},
		{name: "strip past frame", dec: strip, in: "\x03ab", err: "corrupt"},
		{name: "8-byte over int64", dec: le8, in: "\xff\xff\xff\xff\xff\xff\xff\xff", err: "too large", size: math.MaxInt64},
		{name: "8-byte 2^63", dec: le8, in: "\x00\x00\x00\x00\x00\x00\x00\x80", err: "too large", size: math.MaxInt64},
		{name: "8-byte just under saturation", dec: le8, in: "\xf7\xff\xff\xff\xff\xff\xff\x7f", err: "too large", size: math.MaxInt64},
		{name: "8-byte", dec: le8, in: "\x02\x00\x00\x00\x00\x00\x00\x00hi", want: []string{"hi"}},
	})
}

// TestLengthFieldHugeDeclared checks that a declared 1 TiB frame is refused
// from its header alone, and that refusing it costs only the error value.
func TestLengthFieldHugeDeclared(t *testing.T) {
	f, err := codec.NewLengthField(codec.LengthField{Max: 1 << 20, Length: 8, Order: binary.BigEndian})
	if err != nil {
		t.Fatal(err)
	}
	hdr := binary.BigEndian.AppendUint64(nil, 1<<40)
	src := &codec.Bytes{}
	decode := func() {
		src.B = hdr
		if _, err := f.Decode(src); err == nil {
			t.Fatal("Decode of a 1 TiB header returned no error")
		}
	}
	src.B = hdr
	frame, err := f.Decode(src)
	var tl *codec.FrameTooLargeError
	if frame != nil || !errors.As(err, &tl) {
		t.Fatalf("Decode = %q, %v; want a *FrameTooLargeError", frame, err)
	}
	if want := int64(8 + 1<<40); tl.Size != want || tl.Max != 1<<20 {
		t.Errorf("error = %+v, want Size %d, Max %d", *tl, want, 1<<20)
	}
	if src.Buffered() != len(hdr) {
		t.Errorf("Decode consumed %d bytes of a refused frame", len(hdr)-src.Buffered())
	}
	// The only allocation is the error itself.
	if n := testing.AllocsPerRun(100, decode); n > 1 {
		t.Errorf("refusing a 1 TiB frame allocates %v times, want at most 1 (the error)", n)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const runs = 100
	for range runs {
		decode()
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / runs; per > 256 {
		t.Errorf("refusing a 1 TiB frame allocates %d bytes, want the error's few", per)
	}
}

func TestNewLengthField(t *testing.T) {
	bad := []struct {
		name string
		cfg  codec.LengthField
	}{
		{"zero", codec.LengthField{}},
		{"Length 0", codec.LengthField{Max: 10}},
		{"Length 5", codec.LengthField{Max: 10, Length: 5}},
		{"Length -1", codec.LengthField{Max: 10, Length: -1}},
		{"Max 0", codec.LengthField{Length: 2}},
		{"negative Offset", codec.LengthField{Max: 10, Length: 2, Offset: -1}},
		{"header over Max", codec.LengthField{Max: 10, Length: 8, Offset: 3}},
		{"negative Strip", codec.LengthField{Max: 10, Length: 2, Strip: -1}},
		{"Strip over Max", codec.LengthField{Max: 10, Length: 2, Strip: 11}},
		{"Strip over largest value", codec.LengthField{Max: 1000, Length: 1, Strip: 258}},
		{"Adjustment past Max", codec.LengthField{Max: 10, Length: 2, Adjustment: 9}},
		{"Adjustment below every value", codec.LengthField{Max: 1000, Length: 1, Adjustment: -257}},
		{"Adjustment below the header", codec.LengthField{Max: 1000, Length: 1, Adjustment: -256}},
		{"Adjustment MinInt", codec.LengthField{Max: 1000, Length: 4, Adjustment: math.MinInt}},
		{"3 bytes, odd order", codec.LengthField{Max: 1000, Length: 3, Order: frameOddOrder{binary.BigEndian}}},
	}
	for _, c := range bad {
		if f, err := codec.NewLengthField(c.cfg); err == nil {
			t.Errorf("%s: NewLengthField(%+v) = %+v, want an error", c.name, c.cfg, f)
		}
	}
	good := []codec.LengthField{
		{Max: 2, Length: 2},
		{Max: 10, Length: 2, Strip: 10},
		{Max: 10, Length: 2, Adjustment: 8},
		{Max: 1000, Length: 1, Adjustment: -255, Strip: 1},
		{Max: 1000, Length: 1, Strip: 256},
		{Max: 1 << 20, Length: 8, Adjustment: math.MinInt},
		{Max: math.MaxInt, Length: 8, Adjustment: math.MaxInt - 8, Strip: math.MaxInt},
		{Max: 1000, Length: 3, Order: binary.NativeEndian},
		{Max: 1000, Length: 4, Order: frameOddOrder{binary.BigEndian}},
	}
	for _, cfg := range good {
		f, err := codec.NewLengthField(cfg)
		if err != nil {
			t.Errorf("NewLengthField(%+v): %v", cfg, err)
			continue
		}
		if *f != cfg {
			t.Errorf("NewLengthField(%+v) = %+v, want a copy", cfg, *f)
		}
	}
}

// frameOddOrder is a byte order the package does not know.
type frameOddOrder struct{ binary.ByteOrder }

func (frameOddOrder) String() string { return "odd" }

// TestLengthFieldNative checks that a 3-byte NativeEndian field reads as
// the machine's order.
func TestLengthFieldNative(t *testing.T) {
	f, _ := codec.NewLengthField(codec.LengthField{Max: 100, Length: 3, Order: binary.NativeEndian, Strip: 3})
	var field [4]byte
	binary.NativeEndian.PutUint32(field[:], 2)
	hdr := field[:3]
	if binary.NativeEndian.Uint16([]byte{0, 1}) == 1 { // big endian
		hdr = field[1:]
	}
	got, err := f.Decode(&codec.Bytes{B: append(hdr, "ok"...)})
	if string(got) != "ok" || err != nil {
		t.Errorf("Decode = %q, %v, want \"ok\"", got, err)
	}
}

func TestLengthFieldAppend(t *testing.T) {
	be2 := codec.LengthField{Max: 10, Length: 2, Strip: 2}
	if got, err := be2.Append([]byte("x"), []byte("hi")); string(got) != "x\x00\x02hi" || err != nil {
		t.Errorf("Append = %q, %v", got, err)
	}
	whole := codec.LengthField{Max: 100, Offset: 1, Length: 3, Order: binary.LittleEndian, Adjustment: -4, Strip: 4}
	if got, err := whole.Append(nil, []byte("abc")); string(got) != "\x00\x07\x00\x00abc" || err != nil {
		t.Errorf("Append whole count = %q, %v", got, err)
	}
	errs := []struct {
		name    string
		cfg     codec.LengthField
		payload int
		large   bool
	}{
		{"invalid", codec.LengthField{Length: 2}, 1, false},
		{"Strip short of header", codec.LengthField{Max: 10, Length: 2}, 1, false},
		{"Strip past header", codec.LengthField{Max: 10, Length: 2, Strip: 3}, 1, false},
		{"over Max", be2, 9, true},
		{"over width", codec.LengthField{Max: 1000, Length: 1, Strip: 1}, 256, true},
		{"over width by Adjustment", codec.LengthField{Max: 1000, Length: 1, Adjustment: -3, Strip: 1}, 253, true},
		{"shorter than Adjustment", codec.LengthField{Max: 1000, Length: 1, Adjustment: 3, Strip: 1}, 2, false},
	}
	for _, c := range errs {
		dst := []byte("keep")
		got, err := c.cfg.Append(dst, make([]byte, c.payload))
		var tl *codec.FrameTooLargeError
		if err == nil || errors.As(err, &tl) != c.large {
			t.Errorf("%s: Append error = %v, want one (too large: %v)", c.name, err, c.large)
		}
		if string(got) != "keep" {
			t.Errorf("%s: Append changed dst to %q", c.name, got)
		}
	}
	dst := make([]byte, 0, 64)
	payload := []byte("payload")
	if n := testing.AllocsPerRun(100, func() { _, _ = be2.Append(dst, payload) }); n != 0 {
		t.Errorf("Append into room allocates %v times, want 0", n)
	}
}

// TestLengthFieldRoundTrip appends random payloads with random
// configurations and decodes them with the same configuration.
func TestLengthFieldRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	widths := []int{1, 2, 3, 4, 8}
	orders := []binary.ByteOrder{binary.BigEndian, binary.LittleEndian, nil}
	for range 2000 {
		width := widths[r.IntN(len(widths))]
		off := r.IntN(4)
		adj := r.IntN(21) - 10
		cfg := codec.LengthField{
			Max: off + width + r.IntN(600), Offset: off, Length: width,
			Order: orders[r.IntN(len(orders))], Adjustment: adj, Strip: off + width,
		}
		f, err := codec.NewLengthField(cfg)
		if err != nil {
			continue // e.g. an Adjustment past Max
		}
		var wire []byte
		var want []string
		for range r.IntN(6) {
			p := make([]byte, r.IntN(300))
			for i := range p {
				p[i] = byte(r.Uint32())
			}
			out, err := f.Append(wire, p)
			if err != nil {
				v := len(p) - adj
				ok := len(p) > cfg.Max-off-width || v < 0 || (width == 1 && v > 255)
				if !ok {
					t.Fatalf("%+v: Append(%d bytes): %v", cfg, len(p), err)
				}
				continue
			}
			wire = out
			want = append(want, string(p))
		}
		got := frameDecodeCuts(f, wire, r.IntN(len(wire)+1))
		if got.err != nil || !slices.Equal(got.frames, want) || got.consumed != len(wire) {
			t.Fatalf("%+v: decoding %q: %q, %v (consumed %d); want %q", cfg, wire, got.frames, got.err, got.consumed, want)
		}
	}
}
