package load

import (
	"math"
	"math/bits"
	"time"
)

// Latencies are counted in nanoseconds in log-linear buckets: exactly below
// histSub, then histSub buckets per power of two, so a bucket is at most
// 1/histSub of its values wide (about 3%). Latencies from 2^histMaxBits ns
// (about 69 s) on share the last bucket; the maximum is kept exactly.
const (
	histSubBits = 5
	histSub     = 1 << histSubBits
	histMaxBits = 36
	histBuckets = (histMaxBits - histSubBits + 1) * histSub
)

// latencyHist is a histogram of latencies. Recording allocates nothing; it
// is owned by one goroutine, and merged once that goroutine is done.
type latencyHist struct {
	counts [histBuckets]uint64
	n      uint64
	sum    uint64 // nanoseconds
	max    uint64
}

// histIndex returns the bucket of v nanoseconds.
func histIndex(v uint64) int {
	v = min(v, 1<<histMaxBits-1)
	if v < histSub {
		return int(v)
	}
	shift := bits.Len64(v) - histSubBits - 1
	return shift*histSub + int(v>>shift)
}

// histBucket returns the lowest value of bucket i and its width.
func histBucket(i int) (low, width uint64) {
	shift := max(i/histSub-1, 0)
	return uint64(i-shift*histSub) << shift, 1 << shift
}

// record counts count requests that each took d.
func (h *latencyHist) record(d time.Duration, count int) {
	v := uint64(max(d, 0))
	c := uint64(count)
	h.counts[histIndex(v)] += c
	h.n += c
	h.sum += v * c
	h.max = max(h.max, v)
}

func (h *latencyHist) merge(o *latencyHist) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.sum += o.sum
	h.max = max(h.max, o.max)
}

// quantile returns the latency under which a fraction q of the requests
// completed: the middle of the bucket that holds it, or the maximum when
// that is lower or q is 1. It returns 0 for an empty histogram.
func (h *latencyHist) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = max(rank, 1)
	if rank >= h.n {
		return time.Duration(h.max)
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			low, width := histBucket(i)
			return time.Duration(min(low+width/2, h.max))
		}
	}
	return time.Duration(h.max)
}

func (h *latencyHist) mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.sum / h.n)
}
