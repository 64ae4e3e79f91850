package codec_test

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/pinion-net/pinion/codec"
)

// httpNow is the example instant of RFC 9110 §5.6.7.
var httpNow = time.Date(1994, time.November, 6, 8, 49, 37, 0, time.UTC)

// TestAppendResponse checks the bytes of a few responses.
func TestAppendResponse(t *testing.T) {
	var d codec.DateCache
	cases := []struct {
		name   string
		status int
		ctype  string
		body   string
		keep   bool
		server string
		want   string
	}{
		{"plaintext", 200, "text/plain", "Hello, World!", true, "pinion",
			"HTTP/1.1 200 OK\r\nServer: pinion\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n" +
				"Content-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!"},
		{"close, no type, no server", 400, "", "", false, "",
			"HTTP/1.1 400 Bad Request\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n" +
				"Content-Length: 0\r\nConnection: close\r\n\r\n"},
		{"431", 431, "text/plain", "x", false, "p",
			"HTTP/1.1 431 Request Header Fields Too Large\r\nServer: p\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n" +
				"Content-Type: text/plain\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx"},
		{"unknown status", 299, "", "", true, "",
			"HTTP/1.1 299 \r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Length: 0\r\n\r\n"},
		{"204 has no Content-Length", 204, "", "", true, "",
			"HTTP/1.1 204 \r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := codec.AppendResponse([]byte("prefix"), c.status, c.ctype, []byte(c.body), c.keep, c.server, &d, httpNow)
			if string(got) != "prefix"+c.want {
				t.Errorf("AppendResponse =\n%q\nwant\n%q", got, "prefix"+c.want)
			}
			// net/http reads it back as the same response.
			resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(got[len("prefix"):])), nil)
			if err != nil {
				t.Fatalf("net/http cannot read the response: %v", err)
			}
			body, err := io.ReadAll(resp.Body)
			if err != nil || string(body) != c.body || resp.StatusCode != c.status || resp.Close == c.keep ||
				resp.Header.Get("Date") != "Sun, 06 Nov 1994 08:49:37 GMT" || resp.Header.Get("Content-Type") != c.ctype {
				t.Errorf("net/http read status %d close %v body %q (%v) header %v", resp.StatusCode, resp.Close, body, err, resp.Header)
			}
		})
	}
	// A nil DateCache formats the date afresh.
	if got := codec.AppendResponse(nil, 200, "", nil, true, "", nil, httpNow); !bytes.Contains(got, []byte("Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n")) {
		t.Errorf("with a nil DateCache: %q", got)
	}
}

// TestHTTPStatusText checks the table against net/http's, which has the
// RFC 9110 phrases but for 413, still under its RFC 7231 name.
func TestHTTPStatusText(t *testing.T) {
	for _, code := range []int{200, 400, 404, 408, 413, 431, 500, 501, 503, 505} {
		want := http.StatusText(code)
		if code == 413 {
			want = "Content Too Large" // RFC 9110 §15.5.14
		}
		if got := codec.StatusText(code); got != want || got == "" {
			t.Errorf("StatusText(%d) = %q, want %q", code, got, want)
		}
	}
	for _, code := range []int{0, 201, 302, 999, -1} {
		if got := codec.StatusText(code); got != "" {
			t.Errorf("StatusText(%d) = %q, want \"\"", code, got)
		}
	}
}

// TestDateCache checks the format against net/http's over a range of
// instants, and that a second's date is formatted once.
func TestDateCache(t *testing.T) {
	var d codec.DateCache
	start := time.Date(1999, time.December, 31, 23, 59, 58, 0, time.FixedZone("X", 3600))
	for i := range 4000 {
		now := start.Add(time.Duration(i) * 7919 * time.Second).Add(time.Duration(i) * time.Millisecond)
		got := string(d.Append(nil, now))
		if want := now.UTC().Format(http.TimeFormat); got != want {
			t.Fatalf("Append(%v) = %q, want %q", now, got, want)
		}
	}
	for _, now := range []time.Time{time.Unix(0, 0), time.Date(2038, 1, 19, 3, 14, 8, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)} {
		if got, want := string(d.Append([]byte("x"), now)), "x"+now.UTC().Format(http.TimeFormat); got != want {
			t.Errorf("Append(%v) = %q, want %q", now, got, want)
		}
	}
	if got := string(d.Append(nil, time.Date(12345, 1, 1, 0, 0, 0, 0, time.UTC))); len(got) != 29 {
		t.Errorf("year 12345: %q is not 29 bytes", got)
	}
	// Within one second the cached date is reused, even as the clock moves.
	a := string(d.Append(nil, httpNow))
	b := string(d.Append(nil, httpNow.Add(999*time.Millisecond)))
	c := string(d.Append(nil, httpNow.Add(time.Second)))
	if a != b || a == c || c != "Sun, 06 Nov 1994 08:49:38 GMT" {
		t.Errorf("dates %q %q %q", a, b, c)
	}
}

// TestAppendResponseAllocs checks that a response into a reused buffer with
// a warm DateCache allocates nothing.
func TestAppendResponseAllocs(t *testing.T) {
	var d codec.DateCache
	buf := make([]byte, 0, 512)
	body := []byte("Hello, World!")
	now := time.Now()
	buf = codec.AppendResponse(buf[:0], 200, "text/plain", body, true, "pinion", &d, now)
	if a := testing.AllocsPerRun(1000, func() {
		buf = codec.AppendResponse(buf[:0], 200, "text/plain", body, true, "pinion", &d, now)
	}); a != 0 {
		t.Errorf("AppendResponse allocates %v times, want 0", a)
	}
	if a := testing.AllocsPerRun(100, func() {
		now = now.Add(time.Second) // a new second: the date is formatted again
		buf = d.Append(buf[:0], now)
	}); a != 0 {
		t.Errorf("DateCache.Append of a new second allocates %v times, want 0", a)
	}
}
