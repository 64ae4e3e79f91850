package codec_test

import (
	"strings"
	"testing"

	"github.com/pinion-net/pinion/codec"
)

// httpParseAll parses every request of b into r and reports how many there
// were; it fails the test on anything but whole requests.
func httpParseAll(t testing.TB, b []byte, r *codec.Request) int {
	count := 0
	for len(b) > 0 {
		n, err := codec.ParseRequest(b, r, nil)
		if n == 0 || err != nil {
			t.Fatalf("ParseRequest = %d, %v", n, err)
		}
		b = b[n:]
		count++
	}
	return count
}

// TestParseRequestAllocs checks that parsing pipelined requests into one
// reused Request allocates nothing once it is warm.
func TestParseRequestAllocs(t *testing.T) {
	cases := []struct{ name, in string }{
		{"16 pipelined GETs", strings.Repeat(httpGET, 16)},
		{"chunked with trailers", strings.Repeat(httpChunkedPOST, 4)},
		{"POST with Content-Length", strings.Repeat(httpReq("POST / HTTP/1.1", "Host: a", "Content-Length: 5")+"hello", 4)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := []byte(c.in)
			var r codec.Request
			httpParseAll(t, b, &r) // warm-up: Headers, Trailers and the chunk buffer grow once
			if a := testing.AllocsPerRun(100, func() { httpParseAll(t, b, &r) }); a != 0 {
				t.Errorf("parsing allocates %v times per run, want 0", a)
			}
		})
	}
}

// TestDecodeRequestAllocs checks DecodeRequest on a Bytes source.
func TestDecodeRequestAllocs(t *testing.T) {
	b := []byte(strings.Repeat(httpGET, 16))
	src := &codec.Bytes{}
	var r codec.Request
	run := func() {
		src.B = b
		for src.Buffered() > 0 {
			if ok, err := codec.DecodeRequest(src, &r, nil); !ok || err != nil {
				t.Fatalf("DecodeRequest = %v, %v", ok, err)
			}
		}
	}
	run()
	if a := testing.AllocsPerRun(100, run); a != 0 {
		t.Errorf("DecodeRequest allocates %v times per run, want 0", a)
	}
}

// TestParseRequestRejectAllocs checks that refusing a request allocates
// nothing either: the refusals are fixed values.
func TestParseRequestRejectAllocs(t *testing.T) {
	b := []byte("GET / HTTP/1.1\r\nHost : a\r\n\r\n")
	var r codec.Request
	if a := testing.AllocsPerRun(100, func() { codec.ParseRequest(b, &r, nil) }); a != 0 {
		t.Errorf("a refusal allocates %v times, want 0", a)
	}
}

// TestResumeRequestAllocs checks that resuming allocates nothing either:
// requests of every framing, each arriving in two reads cut at several
// points, into one reused Request and RequestProgress.
func TestResumeRequestAllocs(t *testing.T) {
	in := []byte(httpBatch)
	var r codec.Request
	var pr codec.RequestProgress
	// serve parses whole requests from the start of b, as httpServe
	// does without describing them, and returns the bytes they used.
	serve := func(b []byte) int {
		off := 0
		for off < len(b) {
			n, err := codec.ResumeRequest(b[off:], &r, nil, &pr)
			if err != nil {
				t.Fatalf("ResumeRequest: %v", err)
			}
			if n == 0 {
				break
			}
			off += n
		}
		return off
	}
	run := func() {
		for _, cut := range []int{17, 100, 333, 600, 901, 1200} {
			used := serve(in[:cut])
			if used2 := serve(in[used:]); used+used2 != len(in) {
				t.Fatalf("cut at %d: %d bytes used, want %d", cut, used+used2, len(in))
			}
		}
	}
	run() // warm-up: Headers, Trailers and the chunk buffer grow once
	if a := testing.AllocsPerRun(20, run); a != 0 {
		t.Errorf("resuming allocates %v times per run, want 0", a)
	}
}
