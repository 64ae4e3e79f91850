package buffer

import "testing"

// BenchmarkWriteDiscard64 queues and flushes a small response, the common
// case of a request-response connection whose socket took a short write.
func BenchmarkWriteDiscard64(b *testing.B) {
	p := NewPool(16<<10, 4)
	var c Chain
	msg := make([]byte, 64)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		c.Write(p, msg)
		c.Discard(p, c.Len())
	}
}

// BenchmarkWriteSegments1MiB queues 1 MiB and drains it the way a writev
// loop does: at most 64 slices per call, each call fully accepted.
func BenchmarkWriteSegments1MiB(b *testing.B) {
	const chunk = 16 << 10
	p := NewPool(chunk, 1<<20/chunk)
	var c Chain
	data := make([]byte, 1<<20)
	iov := make([][]byte, 0, 64)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		c.Write(p, data)
		for c.Len() > 0 {
			iov = c.Segments(iov[:0], cap(iov), 0)
			n := 0
			for _, seg := range iov {
				n += len(seg)
			}
			c.Discard(p, n)
		}
	}
}
