package load

import (
	"strings"
	"testing"
)

// BenchmarkHTTPSessionCheck is the load generator's per-response cost for
// -proto http: writing a pipelined batch of 16 GET /plaintext and
// verifying the 16 responses, as pinion serve writes them, from one read.
func BenchmarkHTTPSessionCheck(b *testing.B) {
	p, err := newHTTPLoad(httpLoadConfig("/plaintext", 16))
	if err != nil {
		b.Fatal(err)
	}
	s := p.session(0)
	one := "HTTP/1.1 200 OK\r\nServer: pinion\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n" +
		"Content-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!"
	stream := []byte(strings.Repeat(one, 16))
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	for b.Loop() {
		s.begin(16)
		for s.next() != nil {
		}
		if used, done, err := s.check(stream); used != len(stream) || done != 16 || err != nil {
			b.Fatalf("check = %d, %d, %v", used, done, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(16*b.N), "ns/response")
}
