package codec_test

import (
	"bytes"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/pinion-net/pinion/codec"
)

func TestDelimiterDecode(t *testing.T) {
	head, _ := codec.NewDelimiter([]byte("\r\n\r\n"), 6)
	nul, _ := codec.NewDelimiter([]byte{0}, 3)
	overlap, _ := codec.NewDelimiter([]byte("aab"), 10)
	keep := &codec.Delimiter{Delim: []byte("||"), Max: 4, KeepDelimiter: true}
	frameRun(t, []frameCase{
		{name: "empty input", dec: head, in: ""},
		{name: "one", dec: head, in: "abc\r\n\r\n", want: []string{"abc"}},
		{name: "inner CRLF", dec: head, in: "a\r\nb\r\n\r\n", want: []string{"a\r\nb"}},
		{name: "empty frame", dec: head, in: "\r\n\r\n", want: []string{""}},
		{name: "Max", dec: head, in: "abcdef\r\n\r\n", want: []string{"abcdef"}},
		{name: "Max and partial delimiter", dec: head, in: "abcdef\r\n\r", rest: 9},
		{name: "Max+1", dec: head, in: "abcdefg\r\n\r\n", err: "too large", size: 7},
		{name: "Max and broken delimiter", dec: head, in: "abcdef\r\n\rx", err: "too large", size: 10},
		{name: "Max then delimiter start", dec: head, in: "abcdef\r\n\r\n!", want: []string{"abcdef"}, rest: 1},
		{name: "many", dec: nul, in: "ab\x00cd\x00\x00abc\x00x", want: []string{"ab", "cd", "", "abc"}, rest: 1},
		{name: "no delimiter", dec: nul, in: "abcd", err: "too large", size: 4},
		{name: "self-overlapping 1", dec: overlap, in: "aaab", want: []string{"a"}},
		{name: "self-overlapping 2", dec: overlap, in: "aaaabaab", want: []string{"aa", ""}},
		{name: "self-overlapping partial", dec: overlap, in: "xaa", rest: 3},
		{name: "keep", dec: keep, in: "ab||||abcd||", want: []string{"ab||", "||", "abcd||"}},
		{name: "keep over Max", dec: keep, in: "abcde||", err: "too large", size: 5},
	})
}

func TestNewDelimiter(t *testing.T) {
	bad := []struct {
		delim []byte
		max   int
	}{
		{nil, 10},
		{[]byte{}, 10},
		{[]byte("\n"), 0},
		{[]byte("\n"), -5},
		{[]byte("\r\n"), math.MaxInt - 1},
	}
	for _, c := range bad {
		if d, err := codec.NewDelimiter(c.delim, c.max); err == nil {
			t.Errorf("NewDelimiter(%q, %d) = %+v, want an error", c.delim, c.max, d)
		}
	}
	delim := []byte("--")
	d, err := codec.NewDelimiter(delim, 8)
	if err != nil {
		t.Fatal(err)
	}
	delim[0] = 'x' // the decoder has its own copy
	if f, err := d.Decode(&codec.Bytes{B: []byte("ab--")}); string(f) != "ab" || err != nil {
		t.Errorf("Decode after changing the caller's delim = %q, %v, want \"ab\"", f, err)
	}
}

// TestDelimiterRoundTrip appends random frames with AppendDelimited and
// decodes them.
func TestDelimiterRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const max = 32
	for _, delim := range []string{"\x00", "\r\n", "aab", "--sep--"} {
		d, _ := codec.NewDelimiter([]byte(delim), max)
		for range 300 {
			var wire []byte
			var want []string
			for range r.IntN(8) {
				p := make([]byte, r.IntN(max+1))
				for i := range p {
					p[i] = "ab\r\n-\x00"[r.IntN(6)]
				}
				if bytes.Index(append(p, delim...), []byte(delim)) != len(p) {
					continue // not a frame AppendDelimited can carry
				}
				want = append(want, string(p))
				wire = codec.AppendDelimited(wire, p, []byte(delim))
			}
			got := frameDecodeCuts(d, wire, r.IntN(len(wire)+1))
			if got.err != nil || !slices.Equal(got.frames, want) || got.consumed != len(wire) {
				t.Fatalf("delim %q: decoding %q: %q, %v (consumed %d); want %q", delim, wire, got.frames, got.err, got.consumed, want)
			}
		}
	}
}
