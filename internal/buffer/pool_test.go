package buffer

import (
	"strings"
	"testing"
	"unsafe"
)

func TestChainSize(t *testing.T) {
	size := unsafe.Sizeof(Chain{})
	t.Logf("unsafe.Sizeof(Chain{}) = %d bytes", size)
	if size > 40 {
		t.Errorf("unsafe.Sizeof(Chain{}) = %d, want <= 40: a Chain sits in every connection", size)
	}
}

func TestNewPool(t *testing.T) {
	p := NewPool(16, 3)
	if got := p.ChunkSize(); got != 16 {
		t.Errorf("ChunkSize() = %d, want 16", got)
	}
	if got := p.Free(); got != 0 {
		t.Errorf("Free() = %d for a new pool, want 0", got)
	}
}

func TestNewPoolPanics(t *testing.T) {
	tests := []struct {
		name               string
		chunkSize, maxFree int
		want               string
	}{
		{"zero chunk", 0, 1, "chunkSize must be positive"},
		{"negative chunk", -1, 1, "chunkSize must be positive"},
		{"negative maxFree", 8, -1, "maxFree must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				msg, _ := recover().(string)
				if !strings.Contains(msg, tt.want) {
					t.Errorf("NewPool(%d, %d) panicked with %q, want it to contain %q", tt.chunkSize, tt.maxFree, msg, tt.want)
				}
			}()
			NewPool(tt.chunkSize, tt.maxFree)
		})
	}
}

func TestChunksReturnToPool(t *testing.T) {
	tests := []struct {
		name      string
		maxFree   int
		write     int // bytes written with chunks of 4
		discard   int
		wantHeld  int
		wantFree  int
		resetFree int // Free() after Reset
	}{
		{"nothing", 4, 0, 0, 0, 0, 0},
		{"partial chunk kept", 4, 3, 2, 1, 0, 1},
		{"emptied chunk returned", 4, 3, 3, 0, 1, 1},
		{"head chunks returned", 8, 13, 9, 2, 2, 4},
		{"all returned", 8, 16, 16, 0, 4, 4},
		{"capped at maxFree", 2, 16, 16, 0, 2, 2},
		{"maxFree zero drops all", 0, 16, 12, 1, 0, 0},
		{"reset returns held", 8, 16, 0, 4, 0, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewPool(4, tt.maxFree)
			var c Chain
			c.Write(p, make([]byte, tt.write))
			c.Discard(p, tt.discard)
			if got := chunks(&c); got != tt.wantHeld {
				t.Errorf("chunks held = %d, want %d", got, tt.wantHeld)
			}
			if got := p.Free(); got != tt.wantFree {
				t.Errorf("Free() after Discard = %d, want %d", got, tt.wantFree)
			}
			c.Reset(p, nil)
			if got := chunks(&c); got != 0 {
				t.Errorf("chunks held after Reset = %d, want 0", got)
			}
			checkChain(t, &c, nil)
			if got := p.Free(); got != tt.resetFree {
				t.Errorf("Free() after Reset = %d, want %d", got, tt.resetFree)
			}
		})
	}
}

func TestPoolReusesChunks(t *testing.T) {
	p := NewPool(4, 4)
	var c Chain
	c.Write(p, []byte("abcdefgh"))
	first, second := c.head, c.tail
	c.Discard(p, 8)
	if got := p.Free(); got != 2 {
		t.Fatalf("Free() = %d, want 2", got)
	}
	c.Write(p, []byte("ijkl"))
	if got := p.Free(); got != 1 {
		t.Errorf("Free() after reuse = %d, want 1", got)
	}
	if c.head != first && c.head != second {
		t.Errorf("Write took a new chunk, want one of the two freed ones")
	}
	checkChain(t, &c, []byte("ijkl"))
}

func TestPutForeignChunkPanics(t *testing.T) {
	small, big := NewPool(4, 4), NewPool(8, 4)
	var c Chain
	c.Write(small, []byte("abcd"))
	defer func() {
		msg, _ := recover().(string)
		if want := "chunk size differs"; !strings.Contains(msg, want) {
			t.Errorf("Discard into a pool of another size panicked with %q, want it to contain %q", msg, want)
		}
	}()
	c.Discard(big, 4)
}

// TestFirstChunk checks SetFirstChunk: a chain whose first write fits
// starts with a small chunk and goes on in full-size ones, bytes in
// order; a first write that does not fit starts with a full-size chunk;
// both kinds go back to their own free lists and are reused.
func TestFirstChunk(t *testing.T) {
	p := NewPool(64, 4)
	p.SetFirstChunk(16)
	var c Chain
	want := []byte("0123456789abcdefghijklmnopqrstuvwxyz") // 36 bytes: 16 + 20
	c.Write(p, want[:10])
	c.Write(p, want[10:])
	var got []byte
	var sizes []int
	for ch := c.head; ch != nil; ch = ch.next {
		sizes = append(sizes, len(ch.buf))
	}
	for _, s := range c.Segments(nil, 10, 0) {
		got = append(got, s...)
	}
	if string(got) != string(want) || len(sizes) != 2 || sizes[0] != 16 || sizes[1] != 64 {
		t.Fatalf("chain holds %q in chunks of %v; want %q in chunks of [16 64]", got, sizes, want)
	}
	c.Discard(p, c.Len())
	if p.nfirstFree != 1 || p.Free() != 1 {
		t.Fatalf("after Discard: %d small and %d full-size free chunks; want 1 and 1", p.nfirstFree, p.Free())
	}

	c.Write(p, make([]byte, 17)) // does not fit a first chunk
	if n := len(c.head.buf); n != 64 {
		t.Fatalf("a 17-byte first write started a %d-byte chunk; want 64", n)
	}
	c.Reset(p, nil)
	c.Write(p, []byte("x"))
	if n := len(c.head.buf); n != 16 || p.nfirstFree != 0 {
		t.Fatalf("a 1-byte first write started a %d-byte chunk with %d small free; want the free 16-byte one", n, p.nfirstFree)
	}
	c.Reset(p, nil)

	for _, bad := range []int{-1, 64, 65} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("SetFirstChunk(%d) did not panic", bad)
				}
			}()
			NewPool(64, 4).SetFirstChunk(bad)
		}()
	}
}
