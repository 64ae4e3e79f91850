package codec_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/pinion-net/pinion/codec"
)

// frameFuzzSplit decodes data at once and split at cut, and checks that
// both give the same frames, each at most maxFrame bytes, and the same kind
// of error. When whole is true the frames are the input itself (delimiters
// kept) and must concatenate to the consumed bytes.
func frameFuzzSplit(t *testing.T, d frameDecoder, data []byte, cut uint, maxFrame int, whole bool) frameResult {
	t.Helper()
	once := frameDecodeCuts(d, data)
	split := frameDecodeCuts(d, data, int(cut%uint(len(data)+1)))
	if !slices.Equal(once.frames, split.frames) {
		t.Fatalf("frames at once %q, split at %d %q", once.frames, cut%uint(len(data)+1), split.frames)
	}
	if a, b := frameErrKind(once.err), frameErrKind(split.err); a != b {
		t.Fatalf("error at once %v, split %v", once.err, split.err)
	}
	if k := frameErrKind(once.err); k == "other" {
		t.Fatalf("unexpected error %v", once.err)
	}
	if once.err == nil && once.consumed != split.consumed {
		t.Fatalf("consumed at once %d, split %d", once.consumed, split.consumed)
	}
	for _, f := range once.frames {
		if len(f) > maxFrame {
			t.Fatalf("frame of %d bytes over the limit of %d", len(f), maxFrame)
		}
	}
	if whole && strings.Join(once.frames, "") != string(data[:once.consumed]) {
		t.Fatalf("frames %q are not the consumed input %q", once.frames, data[:once.consumed])
	}
	return once
}

func FuzzLine(f *testing.F) {
	f.Add([]byte("PING\r\nECHO hi\n\r\n"), uint(3), uint8(8), false)
	f.Add([]byte("12345678\r"), uint(9), uint8(7), true)
	f.Fuzz(func(t *testing.T, data []byte, cut uint, max uint8, keep bool) {
		l := &codec.Line{Max: int(max)%64 + 1, KeepDelimiter: keep}
		limit := l.Max
		if keep {
			limit += 2
		}
		frameFuzzSplit(t, l, data, cut, limit, keep)

		// Every newline-free piece of data within Max survives a round trip.
		var wire []byte
		var want []string
		for p := range bytes.SplitSeq(data, []byte("\n")) {
			if len(p) <= l.Max {
				wire = codec.AppendLine(wire, p)
				want = append(want, string(p))
			}
		}
		got := frameDecodeCuts(&codec.Line{Max: l.Max}, wire, int(cut%uint(len(wire)+1)))
		if got.err != nil || !slices.Equal(got.frames, want) || got.consumed != len(wire) {
			t.Fatalf("round trip of %q: %q, %v", want, got.frames, got.err)
		}
	})
}

func FuzzDelimiter(f *testing.F) {
	f.Add([]byte("a: b\r\n\r\nc\r\n\r"), uint(5), []byte("\r\n\r\n"), uint8(6), false)
	f.Add([]byte("aaabaab"), uint(2), []byte("aab"), uint8(3), true)
	f.Fuzz(func(t *testing.T, data []byte, cut uint, delim []byte, max uint8, keep bool) {
		if len(delim) == 0 {
			delim = []byte{0}
		}
		delim = delim[:min(len(delim), 6)]
		d := &codec.Delimiter{Delim: delim, Max: int(max)%64 + 1, KeepDelimiter: keep}
		limit := d.Max
		if keep {
			limit += len(delim)
		}
		frameFuzzSplit(t, d, data, cut, limit, keep)

		var wire []byte
		var want []string
		for p := range bytes.SplitSeq(data, delim) {
			if len(p) <= d.Max && bytes.Index(append(p[:len(p):len(p)], delim...), delim) == len(p) {
				wire = codec.AppendDelimited(wire, p, delim)
				want = append(want, string(p))
			}
		}
		got := frameDecodeCuts(&codec.Delimiter{Delim: delim, Max: d.Max}, wire, int(cut%uint(len(wire)+1)))
		if got.err != nil || !slices.Equal(got.frames, want) || got.consumed != len(wire) {
			t.Fatalf("round trip of %q: %q, %v", want, got.frames, got.err)
		}
	})
}

func FuzzFixed(f *testing.F) {
	f.Add([]byte("abcdefgh"), uint(3), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, cut uint, size uint8) {
		fx := &codec.Fixed{Size: int(size)%32 + 1}
		r := frameFuzzSplit(t, fx, data, cut, fx.Size, true)
		if r.err != nil || len(r.frames) != len(data)/fx.Size {
			t.Fatalf("%d frames, %v; want %d", len(r.frames), r.err, len(data)/fx.Size)
		}
	})
}

func FuzzLengthField(f *testing.F) {
	f.Add([]byte("\x00\x05hello\x00\x00\x00"), uint(4), uint8(1), false, uint8(0), int16(0), uint8(2), uint16(100))
	f.Add([]byte("\xca\x0c\x00\x00\xfeHELLO"), uint(2), uint8(2), true, uint8(1), int16(-4), uint8(4), uint16(40))
	f.Add([]byte("\x00\x00\x01\x00\x00\x00\x00\x00"), uint(8), uint8(4), false, uint8(0), int16(0), uint8(0), uint16(4095))
	f.Fuzz(func(t *testing.T, data []byte, cut uint, width uint8, little bool, offset uint8, adj int16, strip uint8, max uint16) {
		cfg := codec.LengthField{
			Max:        int(max)%4096 + 1,
			Offset:     int(offset) % 8,
			Length:     []int{1, 2, 3, 4, 8}[width%5],
			Order:      binary.BigEndian,
			Adjustment: int(adj),
			Strip:      int(strip) % 16,
		}
		if little {
			cfg.Order = binary.LittleEndian
		}
		if lf, err := codec.NewLengthField(cfg); err == nil {
			frameFuzzSplit(t, lf, data, cut, lf.Max-lf.Strip, false)
		} else if _, err := cfg.Decode(&codec.Bytes{B: data}); err == nil {
			t.Fatalf("Decode with %+v, refused by NewLengthField, returned no error", cfg)
		}

		// Append with the header stripped, then decode: data comes back.
		h := cfg.Offset + cfg.Length
		cfg.Strip = h
		if _, err := codec.NewLengthField(cfg); err != nil {
			return
		}
		wire, err := cfg.Append(nil, data)
		if err != nil {
			var tl *codec.FrameTooLargeError
			v := int64(len(data)) - int64(cfg.Adjustment)
			tooLarge := len(data) > cfg.Max-h || (cfg.Length < 8 && v >= 1<<(8*cfg.Length))
			if errors.As(err, &tl) != tooLarge || (!tooLarge && v >= 0) {
				t.Fatalf("Append(%d bytes) with %+v: %v", len(data), cfg, err)
			}
			return
		}
		got := frameDecodeCuts(&cfg, wire, int(cut%uint(len(wire)+1)))
		if got.err != nil || len(got.frames) != 1 || got.frames[0] != string(data) || got.consumed != len(wire) {
			t.Fatalf("round trip of %q with %+v: %q, %v", data, cfg, got.frames, got.err)
		}
	})
}
