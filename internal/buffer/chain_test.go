package buffer

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestZeroValueChain(t *testing.T) {
	var c Chain
	if got := c.Len(); got != 0 {
		t.Errorf("Len() = %d, want 0", got)
	}
	if got := c.Segments(nil, 8, 0); len(got) != 0 {
		t.Errorf("Segments = %q, want none", got)
	}
	if c.Pending() {
		t.Errorf("Pending() = true, want false")
	}
	if got := c.TakeDue(nil); len(got) != 0 {
		t.Errorf("TakeDue returned %d callbacks, want 0", len(got))
	}
	// A zero chain needs no pool for no-op calls.
	c.Write(nil, nil)
	c.Discard(nil, 0)
	if got := c.Reset(nil, nil); len(got) != 0 {
		t.Errorf("Reset returned %d callbacks, want 0", len(got))
	}

	p := NewPool(4, 4)
	c.Write(p, []byte("hello"))
	checkChain(t, &c, []byte("hello"))
	c.Discard(p, 5)
	checkChain(t, &c, nil)
	if got := p.Free(); got != 2 {
		t.Errorf("Free() = %d after discarding everything, want 2", got)
	}
}

func TestWriteDiscard(t *testing.T) {
	tests := []struct {
		name       string
		chunkSize  int
		writes     []string
		discard    int
		wantSegs   []string
		wantChunks int
	}{
		{"empty write", 4, []string{""}, 0, nil, 0},
		{"one byte", 4, []string{"a"}, 0, []string{"a"}, 1},
		{"exactly one chunk", 4, []string{"abcd"}, 0, []string{"abcd"}, 1},
		{"spills into second", 4, []string{"abcde"}, 0, []string{"abcd", "e"}, 2},
		{"fills tail first", 4, []string{"ab", "cd", "ef"}, 0, []string{"abcd", "ef"}, 2},
		{"partial discard in head", 4, []string{"abcdef"}, 1, []string{"bcd", "ef"}, 2},
		{"discard whole head", 4, []string{"abcdef"}, 4, []string{"ef"}, 1},
		{"discard across chunks", 4, []string{"abcdefghij"}, 6, []string{"gh", "ij"}, 2},
		{"discard all", 4, []string{"abcdefgh"}, 8, nil, 0},
		{"chunk of one byte", 1, []string{"abc"}, 1, []string{"b", "c"}, 2},
		{"write after partial tail read", 4, []string{"abc"}, 2, []string{"c"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewPool(tt.chunkSize, 16)
			var c Chain
			var model []byte
			for _, w := range tt.writes {
				c.Write(p, []byte(w))
				model = append(model, w...)
			}
			c.Discard(p, tt.discard)
			checkChain(t, &c, model[tt.discard:])
			var got []string
			for _, seg := range c.Segments(nil, 100, 0) {
				got = append(got, string(seg))
			}
			if !slices.Equal(got, tt.wantSegs) {
				t.Errorf("segments = %q, want %q", got, tt.wantSegs)
			}
			if got := chunks(&c); got != tt.wantChunks {
				t.Errorf("chunks held = %d, want %d", got, tt.wantChunks)
			}
		})
	}
}

func TestWriteThenAppendAfterPartialTail(t *testing.T) {
	p := NewPool(4, 4)
	var c Chain
	c.Write(p, []byte("abc"))
	c.Discard(p, 2)
	c.Write(p, []byte("defg"))
	checkChain(t, &c, []byte("cdefg"))
	if got, want := chunks(&c), 2; got != want {
		t.Errorf("chunks held = %d, want %d (tail filled before a new chunk)", got, want)
	}
}

func TestWriteDoesNotKeepCaller(t *testing.T) {
	p := NewPool(8, 4)
	var c Chain
	b := []byte("original")
	c.Write(p, b)
	copy(b, "XXXXXXXX")
	checkChain(t, &c, []byte("original"))
}

func TestLargeWriteTakesChunks(t *testing.T) {
	const size, chunk = 1 << 20, 16 << 10
	p := NewPool(chunk, 0)
	var c Chain
	data := pattern(0, size)
	c.Write(p, data)
	checkChain(t, &c, data)
	segs := c.Segments(nil, 1<<10, 0)
	if got, want := len(segs), size/chunk; got != want {
		t.Fatalf("segments = %d, want %d", got, want)
	}
	for i, seg := range segs {
		if len(seg) != chunk {
			t.Fatalf("segment %d has %d bytes, want %d", i, len(seg), chunk)
		}
	}
}

func TestSegmentsMaxAndLimit(t *testing.T) {
	// Chunks of 4 hold "abcd" "efgh" "ij" after writing 10 bytes.
	tests := []struct {
		name       string
		max, limit int
		want       []string
	}{
		{"no limits", 10, 0, []string{"abcd", "efgh", "ij"}},
		{"negative limit", 10, -1, []string{"abcd", "efgh", "ij"}},
		{"max zero", 0, 0, nil},
		{"max negative", -1, 0, nil},
		{"max one", 1, 0, []string{"abcd"}},
		{"max two", 2, 0, []string{"abcd", "efgh"}},
		{"limit inside first", 10, 3, []string{"abc"}},
		{"limit at chunk end", 10, 4, []string{"abcd"}},
		{"limit inside second", 10, 6, []string{"abcd", "ef"}},
		{"limit equals Len", 10, 10, []string{"abcd", "efgh", "ij"}},
		{"limit beyond Len", 10, 99, []string{"abcd", "efgh", "ij"}},
		{"max before limit", 1, 6, []string{"abcd"}},
		{"limit before max", 3, 5, []string{"abcd", "e"}},
	}
	p := NewPool(4, 4)
	var c Chain
	c.Write(p, []byte("abcdefghij"))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefix := [][]byte{[]byte("keep")}
			iov := c.Segments(prefix, tt.max, tt.limit)
			if string(iov[0]) != "keep" {
				t.Fatalf("Segments overwrote iov[0] = %q, want %q", iov[0], "keep")
			}
			var got []string
			for _, seg := range iov[1:] {
				got = append(got, string(seg))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Segments(max=%d, limit=%d) = %q, want %q", tt.max, tt.limit, got, tt.want)
			}
		})
	}
}

func TestSegmentsAreCapped(t *testing.T) {
	p := NewPool(8, 4)
	var c Chain
	c.Write(p, []byte("ab"))
	seg := c.Segments(nil, 1, 0)[0]
	_ = append(seg, 'X')
	c.Write(p, []byte("cd"))
	checkChain(t, &c, []byte("abcd"))
}

func TestDiscardPanics(t *testing.T) {
	tests := []struct {
		name string
		len  int
		n    int
	}{
		{"negative", 3, -1},
		{"beyond Len", 3, 4},
		{"on empty", 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewPool(4, 4)
			var c Chain
			c.Write(p, make([]byte, tt.len))
			defer func() {
				r := recover()
				msg, _ := r.(string)
				if !strings.Contains(msg, "n must be within [0, Len()]") {
					t.Errorf("Discard(%d) with Len() %d panicked with %v, want the broken invariant named", tt.n, tt.len, r)
				}
				checkChain(t, &c, make([]byte, tt.len))
			}()
			c.Discard(p, tt.n)
		})
	}
}

// TestFIFOProperty writes random amounts and discards random prefixes,
// comparing the chain with a plain byte slice after every step.
func TestFIFOProperty(t *testing.T) {
	for _, chunkSize := range []int{1, 3, 16, 4096} {
		rng := rand.New(rand.NewPCG(1, uint64(chunkSize)))
		p := NewPool(chunkSize, 8)
		var c Chain
		var model []byte
		var written uint64
		for i := range 5000 {
			if rng.IntN(2) == 0 {
				n := rng.IntN(3*chunkSize + 2)
				b := pattern(written, n)
				written += uint64(n)
				c.Write(p, b)
				model = append(model, b...)
			} else {
				n := rng.IntN(len(model) + 1)
				c.Discard(p, n)
				model = model[n:]
			}
			if got := c.Len(); got != len(model) {
				t.Fatalf("chunk %d step %d: Len() = %d, want %d", chunkSize, i, got, len(model))
			}
			if i%7 == 0 || c.Len() < 64 {
				if got := contents(&c); !bytes.Equal(got, model) {
					t.Fatalf("chunk %d step %d: contents differ from model (got %d bytes, want %d)",
						chunkSize, i, len(got), len(model))
				}
			}
			if got := p.Free(); got > 8 {
				t.Fatalf("chunk %d step %d: Free() = %d, want <= maxFree 8", chunkSize, i, got)
			}
		}
		checkChain(t, &c, model)
	}
}
