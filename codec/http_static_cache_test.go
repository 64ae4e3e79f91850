package codec_test

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/pinion-net/pinion/codec"
)

// TestResponseCache checks that AppendCached appends exactly what Append
// does, over a random sequence of more distinct responses than the cache
// keeps (so that slots are overwritten), both connection forms, instants
// within one second and across seconds, a body too long to keep, and a
// cache that keeps nothing.
func TestResponseCache(t *testing.T) {
	statics := []*codec.StaticResponse{
		codec.NewStaticResponse(200, "text/plain", []byte("Hello, World!"), "pinion"),
		codec.NewStaticResponse(200, "application/json", []byte(`{"message":"Hello, World!"}`), "pinion"),
		codec.NewStaticResponse(404, "text/plain", []byte("Not Found\n"), "pinion"),
		codec.NewStaticResponse(400, "", nil, ""),
		codec.NewStaticResponse(200, "text/plain", []byte(strings.Repeat("x", codec.DefaultResponseCacheBytes)), "p"),
	}
	base := time.Date(2026, 12, 31, 23, 59, 58, 0, time.UTC)
	for _, max := range []int{0, -1, 1 << 20} {
		c := codec.ResponseCache{MaxBytes: max}
		var dc, da codec.DateCache
		rng := rand.New(rand.NewPCG(1, uint64(max)))
		now := base
		for i := range 2000 {
			// Mostly within the second, now and then into the next one.
			now = now.Add(time.Duration(rng.IntN(300)) * time.Millisecond)
			s := statics[rng.IntN(len(statics))]
			keep := rng.IntN(4) != 0
			got := s.AppendCached([]byte("prefix"), keep, &c, &dc, now)
			want := s.Append([]byte("prefix"), keep, &da, now)
			if string(got) != string(want) {
				t.Fatalf("MaxBytes %d, step %d (keep-alive %v at %v): AppendCached =\n%q\nwant\n%q", max, i, keep, now, got, want)
			}
		}
	}
}

// TestResponseCacheAllocs checks that once its slots have grown,
// appending through a ResponseCache into a buffer with room allocates
// nothing, hit or miss.
func TestResponseCacheAllocs(t *testing.T) {
	a := codec.NewStaticResponse(200, "text/plain", []byte("Hello, World!"), "pinion")
	b := codec.NewStaticResponse(200, "application/json", []byte(`{"message":"Hello, World!"}`), "pinion")
	var c codec.ResponseCache
	var d codec.DateCache
	buf := make([]byte, 0, 512)
	now := httpNow
	step := func() {
		// Five renderings for four slots: every call a miss once the
		// second moves, and a hit within it.
		for _, s := range []*codec.StaticResponse{a, b} {
			buf = s.AppendCached(buf[:0], true, &c, &d, now)
			buf = s.AppendCached(buf[:0], false, &c, &d, now)
		}
		buf = a.AppendCached(buf[:0], true, &c, &d, now)
		now = now.Add(time.Second)
	}
	step()
	if n := testing.AllocsPerRun(100, step); n != 0 {
		t.Errorf("AppendCached allocates %v times, want 0", n)
	}
}

// BenchmarkResponseCache appends the /plaintext response through a warm
// ResponseCache; beside BenchmarkStaticResponse.
func BenchmarkResponseCache(b *testing.B) {
	s := codec.NewStaticResponse(200, "text/plain", []byte("Hello, World!"), "pinion")
	var c codec.ResponseCache
	var d codec.DateCache
	buf := make([]byte, 0, 512)
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		buf = s.AppendCached(buf[:0], true, &c, &d, now)
	}
	b.SetBytes(int64(len(buf)))
}
