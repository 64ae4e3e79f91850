package codec_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unsafe"

	"github.com/pinion-net/pinion/codec"
)

// memoRequests are the pieces TestRequestMemo strings together: requests
// that repeat (kept by the memo), ones that differ from them by a byte,
// ones with bodies, empty values, leading empty lines, HTTP/1.0 and
// "Connection: close", refusals, and one longer than the memo keeps.
var memoRequests = []string{
	"GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1:9000\r\n\r\n",
	"GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1:9001\r\n\r\n",
	"GET /json HTTP/1.1\r\nHost: a\r\nX-Empty:\r\nAccept: */*\r\n\r\n",
	"HEAD /json HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
	"\r\nGET /plaintext HTTP/1.1\r\nHost: 127.0.0.1:9000\r\n\r\n",
	"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
	"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
	"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
	"GET /\x80 HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
	"GET / HTTP/1.1\r\n\r\n",
	"GET /" + strings.Repeat("x", codec.DefaultRequestMemoBytes) + " HTTP/1.1\r\nHost: a\r\n\r\n",
}

// TestRequestMemo is a differential test: over random pipelines of
// memoRequests, arriving whole or cut anywhere, under limits that change
// now and then, RequestMemo.ResumeRequest returns exactly what
// ResumeRequest does: the same length, error and Request, every slice of
// it at the same place in the input with the same capacity.
func TestRequestMemo(t *testing.T) {
	limits := []*codec.HTTPLimits{nil, {MaxHeaders: 2}, {MaxHeaderBytes: 48}, {MaxBody: 3}}
	for _, max := range []int{0, -1, 1 << 10} {
		rng := rand.New(rand.NewPCG(7, uint64(max+2)))
		m := codec.RequestMemo{MaxBytes: max}
		var rm, rp codec.Request
		var pm, pp codec.RequestProgress
		hits := 0
		for step := range 3000 {
			// A pipeline of requests, mostly the first one, arriving
			// whole or in two pieces cut anywhere; each piece is served
			// from the start of what is unconsumed until a request is
			// partial or refused (the connection would then close).
			var sb strings.Builder
			for range 1 + rng.IntN(4) {
				if rng.IntN(3) == 0 {
					sb.WriteString(memoRequests[rng.IntN(len(memoRequests))])
				} else {
					sb.WriteString(memoRequests[0])
				}
			}
			in := []byte(sb.String())
			lim := limits[0]
			if rng.IntN(10) == 0 {
				lim = limits[rng.IntN(len(limits))]
			}
			cut := len(in)
			if rng.IntN(4) == 0 {
				cut = rng.IntN(len(in) + 1)
			}
			off := 0
			pm, pp = codec.RequestProgress{}, codec.RequestProgress{}
		pieces:
			for _, have := range []int{cut, len(in)} {
				for off < have {
					b := in[off:have]
					hit := codec.MemoHolds(&m, b, lim, &pm)
					nm, em := m.ResumeRequest(b, &rm, lim, &pm)
					np, ep := codec.ResumeRequest(b, &rp, lim, &pp)
					if nm != np || !sameError(em, ep) {
						t.Fatalf("MaxBytes %d, step %d, input %q: memo gave %d, %v; parse %d, %v", max, step, b, nm, em, np, ep)
					}
					if pm != pp {
						t.Fatalf("MaxBytes %d, step %d: progress differs after %q", max, step, b)
					}
					if em != nil {
						break pieces
					}
					if nm == 0 {
						break
					}
					if d := diffRequest(&rm, &rp); d != "" {
						t.Fatalf("MaxBytes %d, step %d, input %q (memo hit %v): requests differ: %s", max, step, b[:nm], hit, d)
					}
					if hit {
						hits++
					}
					off += nm
				}
			}
		}
		if max >= 0 && hits < 1000 {
			t.Errorf("MaxBytes %d: the memo served %d requests, want most of the repeated ones", max, hits)
		}
		if max < 0 && hits != 0 {
			t.Errorf("MaxBytes %d: the memo served %d requests, want none", max, hits)
		}
	}
}

func sameError(a, b error) bool {
	var ha, hb *codec.HTTPError
	if errors.As(a, &ha) != errors.As(b, &hb) {
		return false
	}
	if ha != nil {
		return *ha == *hb
	}
	return (a == nil) == (b == nil)
}

// diffRequest says how a and b differ, slices compared by where they
// point, their length and their capacity; "" when they do not.
func diffRequest(a, b *codec.Request) string {
	same := func(x, y []byte) bool {
		return len(x) == len(y) && cap(x) == cap(y) && unsafe.SliceData(x) == unsafe.SliceData(y)
	}
	switch {
	case !same(a.Method, b.Method):
		return fmt.Sprintf("Method %q/%d vs %q/%d", a.Method, cap(a.Method), b.Method, cap(b.Method))
	case !same(a.Target, b.Target):
		return fmt.Sprintf("Target %q vs %q", a.Target, b.Target)
	case a.Major != b.Major || a.Minor != b.Minor:
		return fmt.Sprintf("version %d.%d vs %d.%d", a.Major, a.Minor, b.Major, b.Minor)
	case a.ContentLength != b.ContentLength || a.Chunked != b.Chunked || a.KeepAlive != b.KeepAlive:
		return fmt.Sprintf("framing %d %v %v vs %d %v %v", a.ContentLength, a.Chunked, a.KeepAlive, b.ContentLength, b.Chunked, b.KeepAlive)
	case a.Chunked && string(a.Body) != string(b.Body), // each Request's own buffer
		!a.Chunked && !same(a.Body, b.Body):
		return fmt.Sprintf("Body %q vs %q", a.Body, b.Body)
	case len(a.Headers) != len(b.Headers) || cap(a.Headers) != cap(b.Headers):
		return fmt.Sprintf("%d headers (cap %d) vs %d (cap %d)", len(a.Headers), cap(a.Headers), len(b.Headers), cap(b.Headers))
	case len(a.Trailers) != len(b.Trailers):
		return fmt.Sprintf("%d trailers vs %d", len(a.Trailers), len(b.Trailers))
	}
	for i := range a.Headers {
		if !same(a.Headers[i].Name, b.Headers[i].Name) || !same(a.Headers[i].Value, b.Headers[i].Value) {
			return fmt.Sprintf("header %d: %q: %q vs %q: %q", i, a.Headers[i].Name, a.Headers[i].Value, b.Headers[i].Name, b.Headers[i].Value)
		}
	}
	return ""
}

// TestRequestMemoAllocs checks that once the memo and the Request have
// grown, a request served from the memo and one parsed and kept allocate
// nothing.
func TestRequestMemoAllocs(t *testing.T) {
	a := []byte(memoRequests[0])
	b := []byte(memoRequests[2])
	var m codec.RequestMemo
	var r codec.Request
	var pr codec.RequestProgress
	step := func() {
		for _, in := range [][]byte{a, a, b, b} { // parse, hit, parse, hit
			if n, err := m.ResumeRequest(in, &r, nil, &pr); n != len(in) || err != nil {
				t.Fatalf("ResumeRequest(%q) = %d, %v", in, n, err)
			}
		}
	}
	step()
	if n := testing.AllocsPerRun(100, step); n != 0 {
		t.Errorf("RequestMemo.ResumeRequest allocates %v times, want 0", n)
	}
}

// BenchmarkRequestMemoMiss parses requests that never repeat through a
// memo, the cost it adds when it cannot help (beside
// BenchmarkRequestMemoHit and the parser's own benchmarks).
func BenchmarkRequestMemoMiss(b *testing.B) {
	reqs := [][]byte{[]byte(memoRequests[0]), []byte(memoRequests[1])}
	var m codec.RequestMemo
	var r codec.Request
	var pr codec.RequestProgress
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i ^= 1
		if n, _ := m.ResumeRequest(reqs[i], &r, nil, &pr); n == 0 {
			b.Fatal("no request")
		}
	}
}

// BenchmarkRequestMemoHit parses the same request again and again through
// a memo.
func BenchmarkRequestMemoHit(b *testing.B) {
	req := []byte(memoRequests[0])
	var m codec.RequestMemo
	var r codec.Request
	var pr codec.RequestProgress
	b.ReportAllocs()
	for b.Loop() {
		if n, _ := m.ResumeRequest(req, &r, nil, &pr); n == 0 {
			b.Fatal("no request")
		}
	}
}
