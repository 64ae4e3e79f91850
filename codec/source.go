package codec

// Source is what a decoder reads: the unconsumed input of a connection.
// *loop.Conn satisfies it, and so does *Bytes.
//
// A decoder peeks at the bytes it needs, decides, and discards exactly the
// bytes of the frame it returns; it never consumes a partial frame. The
// slices Peek returns alias the source's buffer (see the package
// documentation for how long they stay valid).
type Source interface {
	// Buffered returns how many unconsumed bytes are waiting.
	Buffered() int
	// Peek returns the first n bytes, or all of them when fewer are
	// buffered or n < 0, without consuming them.
	Peek(n int) []byte
	// Discard consumes the first n bytes (all of them when n < 0 or n is
	// larger than Buffered) and returns how many were consumed.
	Discard(n int) int
}

// Bytes adapts a byte slice to Source: B holds the unconsumed input, and
// Discard re-slices it. The slices Peek returns alias B's array and stay
// valid until the caller changes that array. Bytes never copies and never
// allocates. Append more input with b.B = append(b.B, more...).
type Bytes struct{ B []byte }

// Buffered returns len(b.B).
func (b *Bytes) Buffered() int { return len(b.B) }

// Peek returns the first n bytes of b.B, or all of b.B when n < 0 or
// n > len(b.B). It consumes nothing.
func (b *Bytes) Peek(n int) []byte {
	if n >= 0 && n < len(b.B) {
		return b.B[:n]
	}
	return b.B
}

// Discard drops the first n bytes of b.B (all of them when n < 0 or
// n > len(b.B)) and returns how many were dropped.
func (b *Bytes) Discard(n int) int {
	if n < 0 || n > len(b.B) {
		n = len(b.B)
	}
	b.B = b.B[n:]
	return n
}
