package codec_test

import (
	"strings"
	"testing"
	"time"

	"github.com/pinion-net/pinion/codec"
)

// BenchmarkParseGET parses one typical GET.
func BenchmarkParseGET(b *testing.B) {
	in := []byte(httpGET)
	var r codec.Request
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if n, err := codec.ParseRequest(in, &r, nil); n != len(in) || err != nil {
			b.Fatalf("ParseRequest = %d, %v", n, err)
		}
	}
}

// BenchmarkParsePipelined16 parses 16 pipelined GETs from one buffer.
func BenchmarkParsePipelined16(b *testing.B) {
	in := []byte(strings.Repeat(httpGET, 16))
	var r codec.Request
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		httpParseAll(b, in, &r)
	}
}

// BenchmarkParseChunked parses a chunked POST of 4 KiB in 1 KiB chunks, with
// a trailer.
func BenchmarkParseChunked(b *testing.B) {
	chunk := "400\r\n" + strings.Repeat("x", 1024) + "\r\n"
	in := []byte(httpChunkedHead + strings.Repeat(chunk, 4) + "0\r\nX-Sum: 1\r\n\r\n")
	var r codec.Request
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if n, err := codec.ParseRequest(in, &r, nil); n != len(in) || err != nil {
			b.Fatalf("ParseRequest = %d, %v", n, err)
		}
	}
}

// BenchmarkAppendResponse appends the /plaintext response into a reused
// buffer with a warm DateCache.
func BenchmarkAppendResponse(b *testing.B) {
	var d codec.DateCache
	buf := make([]byte, 0, 512)
	body := []byte("Hello, World!")
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		buf = codec.AppendResponse(buf[:0], 200, "text/plain", body, true, "pinion", &d, now)
	}
	b.SetBytes(int64(len(buf)))
}
