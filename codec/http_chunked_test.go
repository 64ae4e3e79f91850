package codec_test

import (
	"strings"
	"testing"

	"github.com/pinion-net/pinion/codec"
)

// httpChunkedHead is the header section of a chunked POST.
const httpChunkedHead = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"

// TestParseRequestChunked checks de-chunking, extensions and trailers.
func TestParseRequestChunked(t *testing.T) {
	cases := []struct {
		name, body, want, trailers string
	}{
		{"empty", "0\r\n\r\n", "", ""},
		{"one chunk", "3\r\nabc\r\n0\r\n\r\n", "abc", ""},
		{"hex sizes", "a\r\n0123456789\r\nA\r\n0123456789\r\n0\r\n\r\n", strings.Repeat("0123456789", 2), ""},
		{"16 hex digits", "0000000000000003\r\nabc\r\n0000000000000000\r\n\r\n", "abc", ""},
		{"extensions", "3;a\r\nabc\r\n2;a=b;c=\"d;e\\\"f\"\r\nde\r\n0;last\r\n\r\n", "abcde", ""},
		{"extension BWS", "3 ;\ta = b\r\nabc\r\n0\r\n\r\n", "abc", ""},
		{"quoted-pair and obs-text in extension", "1;a=\"\\\t\xff\"\r\nx\r\n0\r\n\r\n", "x", ""},
		{"trailers", "1\r\nx\r\n0\r\nA: 1\r\nb:\t2 \r\n\r\n", "x", `"A":"1" "b":"2" `},
		{"CRLF in data", "4\r\n\r\n\r\n\r\n0\r\n\r\n", "\r\n\r\n", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := httpChunkedHead + c.body
			var r codec.Request
			n, err := codec.ParseRequest([]byte(in+"GET"), &r, nil)
			if n != len(in) || err != nil {
				t.Fatalf("ParseRequest = %d, %v; want %d, nil", n, err, len(in))
			}
			if string(r.Body) != c.want || !r.Chunked || r.ContentLength != -1 {
				t.Errorf("Body %q Chunked %v ContentLength %d, want %q true -1", r.Body, r.Chunked, r.ContentLength, c.want)
			}
			var tr strings.Builder
			for _, h := range r.Trailers {
				tr.WriteString(`"` + string(h.Name) + `":"` + string(h.Value) + `" `)
			}
			if tr.String() != c.trailers {
				t.Errorf("Trailers = %s, want %s", tr.String(), c.trailers)
			}
		})
	}
}

// TestParseRequestChunkedRejects covers malformed and oversized chunked
// bodies.
func TestParseRequestChunkedRejects(t *testing.T) {
	h := httpChunkedHead
	small := &codec.HTTPLimits{MaxBody: 8, MaxHeaderBytes: 64, MaxHeaders: 2}
	httpRunRejects(t, []httpReject{
		{"no size", h + "\r\n", 400, nil},
		{"size not hex", h + "zz\r\n", 400, nil},
		{"negative size", h + "-1\r\n", 400, nil},
		{"17 hex digits", h + "00000000000000001\r\n", 400, nil},
		{"17 hex digits, incomplete", h + "00000000000000001", 400, nil},
		{"SP after size", h + "3 \r\nabc\r\n0\r\n\r\n", 400, nil},
		{"empty extension", h + "3;\r\nabc\r\n0\r\n\r\n", 400, nil},
		{"extension without name", h + "3;=b\r\nabc\r\n0\r\n\r\n", 400, nil},
		{"extension value missing", h + "3;a=\r\nabc\r\n0\r\n\r\n", 400, nil},
		{"unterminated quoted value", h + "3;a=\"b\r\nabc\r\n0\r\n\r\n", 400, nil},
		{"CTL in extension", h + "3;a\x01\r\nabc\r\n0\r\n\r\n", 400, nil},
		{"bare CR in extension", h + "3;a\rb\r\nabc\r\n0\r\n\r\n", 400, nil},
		{"bare LF after size", h + "3\nabc\r\n0\r\n\r\n", 400, nil},
		{"bare LF after last chunk", h + "0\n\r\n", 400, nil},
		{"data longer than size", h + "3\r\nabcd\r\n0\r\n\r\n", 400, nil},
		{"data shorter than size", h + "3\r\nab\r\n0\r\n\r\n", 400, nil},
		{"bare LF after data", h + "3\r\nabc\n0\r\n\r\n", 400, nil},
		{"extensions over MaxHeaderBytes", h + "1;" + strings.Repeat("e", 8<<10) + "\r\nx\r\n0\r\n\r\n", 400, nil},
		{"extensions over MaxHeaderBytes, incomplete", h + "1;" + strings.Repeat("e", 8<<10+1), 400, nil},
		{"extensions over MaxHeaderBytes together", h + strings.Repeat("1;"+strings.Repeat("e", 1000)+"\r\nx\r\n", 9), 400, nil},
		{"chunk over MaxBody", h + "100001\r\n", 413, nil},
		{"chunk of 16 hex digits", h + "ffffffffffffffff\r\n", 413, nil},
		{"chunks over MaxBody together", h + "5\r\nabcde\r\n4\r\n", 413, small},
		{"trailer obs-fold", h + "0\r\nA: 1\r\n 2\r\n\r\n", 400, nil},
		{"trailer SP before colon", h + "0\r\nA : 1\r\n\r\n", 400, nil},
		{"trailer bare LF", h + "0\r\nA: 1\n\r\n", 400, nil},
		{"trailer CTL", h + "0\r\nA: \x001\r\n\r\n", 400, nil},
		{"too many trailers", h + "0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", 431, small},
		{"trailer section over MaxHeaderBytes", h + "0\r\nA: " + strings.Repeat("a", 64) + "\r\n\r\n", 431, small},
		{"trailer section over MaxHeaderBytes, incomplete", h + "0\r\nA: " + strings.Repeat("a", 64), 431, small},
	})

	// The limits themselves are fine.
	at := h + "8\r\n01234567\r\n0\r\nA: 1\r\nB: 2\r\n\r\n"
	if n, err := codec.ParseRequest([]byte(at), new(codec.Request), small); n != len(at) || err != nil {
		t.Errorf("chunked body at the limits: ParseRequest = %d, %v; want %d, nil", n, err, len(at))
	}
}

// TestParseRequestChunkedIncomplete checks that a chunked body waits while
// only its size line has arrived, and refuses an oversized chunk before
// its data.
func TestParseRequestChunkedIncomplete(t *testing.T) {
	in := httpChunkedHead + "400\r\n" + strings.Repeat("z", 100)
	if n, err := codec.ParseRequest([]byte(in), new(codec.Request), nil); n != 0 || err != nil {
		t.Errorf("partial chunk: ParseRequest = %d, %v; want 0, nil", n, err)
	}
	lim := &codec.HTTPLimits{MaxBody: 0x3ff}
	if _, err := codec.ParseRequest([]byte(in), new(codec.Request), lim); httpStatus(err) != 413 {
		t.Errorf("partial chunk over MaxBody: error = %v, want 413", err)
	}
}

// TestParseRequestChunkedBufferReused checks that the de-chunked body
// lives in the Request and that its buffer is reused.
func TestParseRequestChunkedBufferReused(t *testing.T) {
	in := []byte(httpChunkedPOST)
	var r codec.Request
	if _, err := codec.ParseRequest(in, &r, nil); err != nil {
		t.Fatal(err)
	}
	first := &r.Body[0]
	for i := range in {
		in[i] = 'X' // the body must not alias the input
	}
	if string(r.Body) != "hello, world" {
		t.Errorf("Body = %q after the input changed, want %q", r.Body, "hello, world")
	}
	if _, err := codec.ParseRequest([]byte(httpChunkedPOST), &r, nil); err != nil {
		t.Fatal(err)
	}
	if &r.Body[0] != first {
		t.Errorf("the second chunked body is in a new buffer")
	}
}
