package proto

import (
	"strings"
	"testing"
)

// BenchmarkHTTPServePipelined16 serves one batch of 16 pipelined GET
// /plaintext requests, as `pinion load -proto http -pipeline 16` sends
// them, into a reused reply buffer: the user-space work per batch of the
// HTTP p16 benchmark cell apart from the engine's (parse, route, response).
func BenchmarkHTTPServePipelined16(b *testing.B) {
	p := newTestHTTP(b, nil)
	batch := []byte(strings.Repeat("GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1:9000\r\n\r\n", 16))
	sc := &Scratch{Now: httpTestNow}
	out := make([]byte, 0, 4096)
	b.SetBytes(int64(len(batch)))
	b.ReportAllocs()
	for b.Loop() {
		n, reply, _ := p.Serve(sc, batch, out[:0])
		if n != len(batch) {
			b.Fatalf("consumed %d bytes, want %d", n, len(batch))
		}
		out = reply
	}
}
