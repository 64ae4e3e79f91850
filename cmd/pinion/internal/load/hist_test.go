package load

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestHistBuckets checks that every value falls in a bucket that holds it,
// that buckets are at most 1/histSub of their values wide, and that they
// tile the range without gaps.
func TestHistBuckets(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	check := func(v uint64) {
		i := histIndex(v)
		low, width := histBucket(i)
		if i < 0 || i >= histBuckets || v < low || v >= low+width {
			t.Fatalf("value %d: bucket %d is [%d, %d)", v, i, low, low+width)
		}
		if width > 1 && width*histSub > low {
			t.Fatalf("bucket %d is [%d, +%d): wider than 1/%d of its values", i, low, width, histSub)
		}
	}
	for v := range uint64(10000) {
		check(v)
	}
	for range 100000 {
		check(r.Uint64N(1 << histMaxBits))
	}
	check(1<<histMaxBits - 1)
	for i := 1; i < histBuckets; i++ {
		low, _ := histBucket(i)
		pl, pw := histBucket(i - 1)
		if pl+pw != low {
			t.Fatalf("bucket %d starts at %d, previous ends at %d", i, low, pl+pw)
		}
	}
	if i := histIndex(1 << 60); i != histBuckets-1 {
		t.Errorf("huge value in bucket %d, want the last, %d", i, histBuckets-1)
	}
}

// TestHistQuantiles compares quantiles with the exact ones of random
// latencies: they must be within a bucket's width.
func TestHistQuantiles(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var h latencyHist
	var all []time.Duration
	for range 50000 {
		d := time.Duration(r.ExpFloat64() * float64(200*time.Microsecond))
		all = append(all, d)
		h.record(d, 1)
	}
	h.record(time.Second, 1)
	all = append(all, time.Second)
	slices.Sort(all)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999, 1} {
		exact := all[int(q*float64(len(all)-1))]
		got := h.quantile(q)
		if diff := (got - exact).Abs(); float64(diff) > float64(exact)/histSub+1 {
			t.Errorf("quantile %v = %v, exact %v: off by more than 1/%d", q, got, exact, histSub)
		}
	}
	if h.quantile(1) != time.Second || time.Duration(h.max) != time.Second {
		t.Errorf("max %v, quantile(1) %v; want 1s", time.Duration(h.max), h.quantile(1))
	}
	var sum time.Duration
	for _, d := range all {
		sum += d
	}
	if got, want := h.mean(), sum/time.Duration(len(all)); got != want {
		t.Errorf("mean %v, want %v", got, want)
	}

	var merged latencyHist
	merged.merge(&h)
	merged.merge(&h)
	if merged.n != 2*h.n || merged.quantile(0.5) != h.quantile(0.5) {
		t.Errorf("merging twice: n %d, p50 %v; want %d, %v", merged.n, merged.quantile(0.5), 2*h.n, h.quantile(0.5))
	}
	var empty latencyHist
	if empty.quantile(0.99) != 0 || empty.mean() != 0 {
		t.Error("an empty histogram reports non-zero latencies")
	}
}

func BenchmarkHistRecord(b *testing.B) {
	var h latencyHist
	b.ReportAllocs()
	d := time.Duration(0)
	for b.Loop() {
		d = (d + 7919) % time.Second
		h.record(d, 1)
	}
}
