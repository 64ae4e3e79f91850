package codec

import (
	"math/rand/v2"
	"testing"
)

// TestHTTPScanners checks the word-at-a-time scanners against the byte
// classes they stand for: for every byte value at every offset of inputs
// that are otherwise in the class, and for random inputs, each stops at
// the first byte out of the class.
func TestHTTPScanners(t *testing.T) {
	scanners := []struct {
		name string
		scan func(b []byte, i, end int) int
		in   func(c byte) bool
		fill byte
	}{
		{"value", httpScanValue, func(c byte) bool { return c == '\t' || c == ' ' || c >= '!' && c != 0x7f }, 'v'},
		{"target", httpScanTarget, func(c byte) bool { return '!' <= c && c <= '~' && c != '%' }, 't'},
		{"tchar", httpScanTchar, func(c byte) bool { return httpInSet(c, httpTcharLo, httpTcharHi) }, 'k'},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, s := range scanners {
		want := func(b []byte, i int) int {
			for i < len(b) && s.in(b[i]) {
				i++
			}
			return i
		}
		check := func(b []byte, i int) {
			if got, w := s.scan(b, i, len(b)), want(b, i); got != w {
				t.Fatalf("%s scan of %q from %d = %d, want %d", s.name, b, i, got, w)
			}
		}
		for n := range 24 {
			for at := range n {
				for c := range 256 {
					b := make([]byte, n)
					for k := range b {
						b[k] = s.fill
					}
					b[at] = byte(c)
					check(b, 0)
					check(b, at)
				}
			}
		}
		for range 20000 {
			b := make([]byte, rng.IntN(40))
			for k := range b {
				// Mostly bytes in the class, some of every kind.
				b[k] = s.fill
				if rng.IntN(4) == 0 {
					b[k] = byte(rng.IntN(256))
				}
			}
			check(b, 0)
		}
	}
}
