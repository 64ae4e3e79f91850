package codec_test

import (
	"bytes"
	"testing"

	"github.com/pinion-net/pinion/codec"
)

// frameBench decodes the frames of in over and over, refilling the source
// when it runs dry; one op is one frame.
func frameBench(b *testing.B, d frameDecoder, in []byte, frames int) {
	b.Helper()
	b.ReportAllocs()
	b.SetBytes(int64(len(in) / frames))
	src := &codec.Bytes{B: in}
	for b.Loop() {
		if src.Buffered() == 0 {
			src.B = in
		}
		if f, err := d.Decode(src); f == nil || err != nil {
			b.Fatalf("Decode = %q, %v", f, err)
		}
	}
}

func BenchmarkLine(b *testing.B) {
	d, _ := codec.NewLine(4096)
	in := bytes.Repeat([]byte("SET key:000123 a-value-of-some-length\r\n"), 64)
	frameBench(b, d, in, 64)
}

func BenchmarkDelimiter(b *testing.B) {
	d, _ := codec.NewDelimiter([]byte("\r\n\r\n"), 4096)
	in := bytes.Repeat([]byte("Host: example.com\r\nAccept: */*\r\n\r\n"), 64)
	frameBench(b, d, in, 64)
}

func BenchmarkFixed(b *testing.B) {
	d, _ := codec.NewFixed(64)
	frameBench(b, d, make([]byte, 64*64), 64)
}

func BenchmarkLengthField(b *testing.B) {
	d, _ := codec.NewLengthField(codec.LengthField{Max: 1 << 16, Length: 4, Strip: 4})
	var in []byte
	for range 64 {
		in, _ = d.Append(in, bytes.Repeat([]byte("x"), 128))
	}
	frameBench(b, d, in, 64)
}
