package codec_test

import (
	"bytes"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/pinion-net/pinion/codec"
)

func TestLineDecode(t *testing.T) {
	l5 := &codec.Line{Max: 5}
	keep := &codec.Line{Max: 5, KeepDelimiter: true}
	frameRun(t, []frameCase{
		{name: "empty input", dec: l5, in: ""},
		{name: "LF", dec: l5, in: "a\n", want: []string{"a"}},
		{name: "CRLF", dec: l5, in: "a\r\n", want: []string{"a"}},
		{name: "empty LF", dec: l5, in: "\n", want: []string{""}},
		{name: "empty CRLF", dec: l5, in: "\r\n", want: []string{""}},
		{name: "inner CR kept", dec: l5, in: "a\rb\n", want: []string{"a\rb"}},
		{name: "one CR stripped", dec: l5, in: "a\r\r\n", want: []string{"a\r"}},
		{name: "several and a partial", dec: l5, in: "abc\ndef\r\n\nxy", want: []string{"abc", "def", ""}, rest: 2},
		{name: "partial CR", dec: l5, in: "ab\r", rest: 3},
		{name: "Max with LF", dec: l5, in: "12345\n", want: []string{"12345"}},
		{name: "Max with CRLF", dec: l5, in: "12345\r\n", want: []string{"12345"}},
		{name: "Max then CR waits", dec: l5, in: "12345\r", rest: 6},
		{name: "Max+1 with LF", dec: l5, in: "123456\n", err: "too large", size: 6},
		{name: "Max+1 with CRLF", dec: l5, in: "123456\r\n", err: "too large", size: 6},
		{name: "Max+1 no newline", dec: l5, in: "123456", err: "too large", size: 6},
		{name: "Max then CR and more", dec: l5, in: "12345\rx", err: "too large", size: 7},
		{name: "long", dec: l5, in: "1234567890abcdef", err: "too large", size: 7},
		{name: "good then long", dec: l5, in: "ok\n1234567890", want: []string{"ok"}, err: "too large", size: 7},
		{name: "keep", dec: keep, in: "a\r\nb\n\n12345\r\n", want: []string{"a\r\n", "b\n", "\n", "12345\r\n"}},
		{name: "keep over Max", dec: keep, in: "123456\n", err: "too large", size: 6},
	})
}

func TestNewLine(t *testing.T) {
	for _, max := range []int{-1, 0, math.MaxInt, math.MaxInt - 1} {
		if l, err := codec.NewLine(max); err == nil {
			t.Errorf("NewLine(%d) = %+v, want an error", max, l)
		}
	}
	l, err := codec.NewLine(1)
	if err != nil || l.Max != 1 || l.KeepDelimiter {
		t.Errorf("NewLine(1) = %+v, %v", l, err)
	}
}

// TestLineTooLargeEarly checks that a line without newline is refused as
// soon as more than Max bytes are buffered, not when the newline comes.
func TestLineTooLargeEarly(t *testing.T) {
	l, _ := codec.NewLine(1024)
	src := &codec.Bytes{B: bytes.Repeat([]byte("x"), 1025)}
	if _, err := l.Decode(src); frameErrKind(err) != "too large" {
		t.Errorf("Decode(1025 bytes) error = %v, want *FrameTooLargeError", err)
	}
	src.B = src.B[:1024]
	if f, err := l.Decode(src); f != nil || err != nil {
		t.Errorf("Decode(1024 bytes) = %q, %v, want nil, nil", f, err)
	}
}

// TestLineRoundTrip appends random lines with AppendLine and decodes them.
func TestLineRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const max = 64
	l, _ := codec.NewLine(max)
	for range 500 {
		var wire []byte
		var want []string
		for range r.IntN(8) {
			p := make([]byte, r.IntN(max+1))
			for i := range p {
				p[i] = "ab\r \x00\xff"[r.IntN(6)]
			}
			want = append(want, string(p))
			wire = codec.AppendLine(wire, p)
		}
		got := frameDecodeCuts(l, wire, r.IntN(len(wire)+1))
		if got.err != nil || !slices.Equal(got.frames, want) || got.consumed != len(wire) {
			t.Fatalf("decoding %q: %q, %v (consumed %d); want %q", wire, got.frames, got.err, got.consumed, want)
		}
	}
}
