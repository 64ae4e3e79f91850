package metrics_test

import (
	"fmt"
	"time"

	"github.com/pinion-net/pinion/internal/metrics"
)

func ExampleHistogram() {
	var h metrics.Histogram
	for _, d := range []time.Duration{3 * time.Microsecond, 5 * time.Microsecond, 2 * time.Millisecond} {
		h.Observe(d)
	}
	s := h.Snapshot()
	fmt.Println(s.Total(), s.Quantile(0.5), s.Quantile(1))
	// Output: 3 8µs 2.048ms
}
