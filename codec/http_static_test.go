package codec_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pinion-net/pinion/codec"
)

// TestStaticResponse checks that a StaticResponse appends exactly what
// AppendResponse writes for the same arguments, keep-alive and not, across
// a change of second (the Date is the only part that moves), and that it
// keeps a copy of its body.
func TestStaticResponse(t *testing.T) {
	cases := []struct {
		status int
		ctype  string
		body   string
		server string
	}{
		{200, "text/plain", "Hello, World!", "pinion"},
		{200, "application/json", `{"message":"Hello, World!"}`, "pinion"},
		{404, "text/plain", "Not Found\n", "pinion"},
		{400, "", "", ""},
		{431, "text/plain", strings.Repeat("x", 12345), "p"},
		{204, "", "", "s"},
		{299, "text/plain", "no reason phrase", "Date: not the field"},
	}
	times := []time.Time{httpNow, httpNow.Add(time.Second), time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC)}
	for _, c := range cases {
		t.Run(strconv.Itoa(c.status)+" "+c.ctype, func(t *testing.T) {
			body := []byte(c.body)
			s := codec.NewStaticResponse(c.status, c.ctype, body, c.server)
			if len(body) > 0 {
				body[0] ^= 0xff // the StaticResponse has its own copy
				defer func() { body[0] ^= 0xff }()
			}
			var ds, da codec.DateCache
			for _, now := range times {
				for _, keep := range []bool{true, false} {
					got := s.Append([]byte("prefix"), keep, &ds, now)
					want := codec.AppendResponse([]byte("prefix"), c.status, c.ctype, []byte(c.body), keep, c.server, &da, now)
					if string(got) != string(want) {
						t.Errorf("keep-alive %v at %v: Append =\n%q\nwant\n%q", keep, now, got, want)
					}
				}
			}
			if s.BodyLen() != len(c.body) {
				t.Errorf("BodyLen = %d, want %d", s.BodyLen(), len(c.body))
			}
		})
	}
}

// TestStaticResponseAllocs checks that appending a StaticResponse into a
// buffer with room allocates nothing.
func TestStaticResponseAllocs(t *testing.T) {
	s := codec.NewStaticResponse(200, "text/plain", []byte("Hello, World!"), "pinion")
	var d codec.DateCache
	buf := make([]byte, 0, 512)
	if a := testing.AllocsPerRun(100, func() { buf = s.Append(buf[:0], true, &d, httpNow) }); a != 0 {
		t.Errorf("Append allocates %v times, want 0", a)
	}
}

// TestAppendResponseLengths checks Content-Length across digit counts
// against strconv.
func TestAppendResponseLengths(t *testing.T) {
	var d codec.DateCache
	for _, n := range []int{0, 1, 9, 10, 99, 100, 999, 1000, 65535, 1 << 20, 10000019} {
		got := codec.AppendResponse(nil, 200, "", make([]byte, n), true, "", &d, httpNow)
		want := "\r\nContent-Length: " + strconv.Itoa(n) + "\r\n\r\n"
		if !strings.Contains(string(got[:min(len(got), 200)]), want) {
			t.Errorf("body of %d bytes: response starts %q, want it to hold %q", n, got[:min(len(got), 120)], want)
		}
	}
}

// BenchmarkStaticResponse appends the /plaintext response from a
// StaticResponse into a reused buffer with a warm DateCache; beside
// BenchmarkAppendResponse, which formats the same bytes field by field.
func BenchmarkStaticResponse(b *testing.B) {
	s := codec.NewStaticResponse(200, "text/plain", []byte("Hello, World!"), "pinion")
	var d codec.DateCache
	buf := make([]byte, 0, 512)
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		buf = s.Append(buf[:0], true, &d, now)
	}
	b.SetBytes(int64(len(buf)))
}
