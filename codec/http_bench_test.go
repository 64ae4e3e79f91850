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

// httpWrkGET is the request of the TechEmpower plaintext test, as wrk sends
// it there.
const httpWrkGET = "GET /plaintext HTTP/1.1\r\n" +
	"Host: localhost:8080\r\n" +
	"Accept: text/plain,text/html;q=0.9,application/xhtml+xml;q=0.9,application/xml;q=0.8,*/*;q=0.7\r\n" +
	"Connection: keep-alive\r\n" +
	"\r\n"

// httpBrowserGET is a GET with the header fields of a browser: about 700
// bytes of header section.
const httpBrowserGET = "GET /search?q=pinion&lang=en HTTP/1.1\r\n" +
	"Host: www.example.com\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n" +
	"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n" +
	"Accept-Language: en-US,en;q=0.5\r\n" +
	"Accept-Encoding: gzip, deflate, br, zstd\r\n" +
	"Referer: https://www.example.com/index.html\r\n" +
	"Cookie: session=8f2c1e0b9a7d4c3f8e6b5a4d3c2b1a09; theme=dark; consent=yes\r\n" +
	"Connection: keep-alive\r\n" +
	"Upgrade-Insecure-Requests: 1\r\n" +
	"Sec-Fetch-Dest: document\r\n" +
	"Sec-Fetch-Mode: navigate\r\n" +
	"Sec-Fetch-Site: same-origin\r\n" +
	"Priority: u=0, i\r\n" +
	"\r\n"

// BenchmarkParsePipelinedWrk16 parses a batch of 16 pipelined wrk GETs.
func BenchmarkParsePipelinedWrk16(b *testing.B) {
	in := []byte(strings.Repeat(httpWrkGET, 16))
	var r codec.Request
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		httpParseAll(b, in, &r)
	}
}

// BenchmarkParseBrowserGET parses one GET with a browser's header fields.
func BenchmarkParseBrowserGET(b *testing.B) {
	in := []byte(httpBrowserGET)
	var r codec.Request
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if n, err := codec.ParseRequest(in, &r, nil); n != len(in) || err != nil {
			b.Fatalf("ParseRequest = %d, %v", n, err)
		}
	}
}

// BenchmarkParseSplit parses the browser GET arriving in two reads, cut in
// the middle of its header section: a server calls once on the first half
// (more is needed) and once on the whole, keeping a RequestProgress.
func BenchmarkParseSplit(b *testing.B) {
	in := []byte(httpBrowserGET)
	half := len(in) / 2
	var r codec.Request
	var pr codec.RequestProgress
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if n, err := codec.ResumeRequest(in[:half], &r, nil, &pr); n != 0 || err != nil {
			b.Fatalf("first half: ResumeRequest = %d, %v", n, err)
		}
		if n, err := codec.ResumeRequest(in, &r, nil, &pr); n != len(in) || err != nil {
			b.Fatalf("whole: ResumeRequest = %d, %v", n, err)
		}
	}
}

// BenchmarkParseTrickle parses the browser GET arriving 32 bytes per read,
// with a RequestProgress: each read costs the new bytes, not the whole
// prefix again.
func BenchmarkParseTrickle(b *testing.B) {
	in := []byte(httpBrowserGET)
	var r codec.Request
	var pr codec.RequestProgress
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		for i := 32; ; i += 32 {
			i = min(i, len(in))
			n, err := codec.ResumeRequest(in[:i], &r, nil, &pr)
			if err != nil || n != 0 && n != len(in) {
				b.Fatalf("ResumeRequest(%d bytes) = %d, %v", i, n, err)
			}
			if n > 0 {
				break
			}
		}
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
