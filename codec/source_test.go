package codec_test

import (
	"testing"

	"github.com/pinion-net/pinion/codec"
)

func TestBytesSource(t *testing.T) {
	var _ codec.Source = (*codec.Bytes)(nil)

	b := &codec.Bytes{B: []byte("hello")}
	if n := b.Buffered(); n != 5 {
		t.Errorf("Buffered = %d, want 5", n)
	}
	peeks := []struct {
		n    int
		want string
	}{{0, ""}, {2, "he"}, {5, "hello"}, {9, "hello"}, {-1, "hello"}}
	for _, p := range peeks {
		if got := b.Peek(p.n); string(got) != p.want {
			t.Errorf("Peek(%d) = %q, want %q", p.n, got, p.want)
		}
	}
	if b.Buffered() != 5 {
		t.Errorf("Peek consumed input")
	}
	if n := b.Discard(2); n != 2 || string(b.B) != "llo" {
		t.Errorf("Discard(2) = %d, left %q; want 2, \"llo\"", n, b.B)
	}
	if n := b.Discard(0); n != 0 || string(b.B) != "llo" {
		t.Errorf("Discard(0) = %d, left %q; want 0, \"llo\"", n, b.B)
	}
	if n := b.Discard(10); n != 3 || b.Buffered() != 0 {
		t.Errorf("Discard(10) = %d, left %q; want 3, \"\"", n, b.B)
	}
	b.B = append(b.B, "more"...)
	if n := b.Discard(-1); n != 4 || b.Buffered() != 0 {
		t.Errorf("Discard(-1) = %d, left %q; want 4, \"\"", n, b.B)
	}
	var empty codec.Bytes
	if empty.Buffered() != 0 || len(empty.Peek(3)) != 0 || empty.Discard(3) != 0 {
		t.Errorf("zero Bytes is not empty")
	}
}
