package top

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"
	"time"
)

const exposition = `# HELP pinion_loops Event loops.
# TYPE pinion_loops gauge
pinion_loops 2
pinion_connections{loop="0"} 3
pinion_connections{loop="1"} 4
pinion_tick_duration_seconds_bucket{loop="0",le="1e-06"} 0
pinion_tick_duration_seconds_bucket{loop="0",le="2e-06"} 90
pinion_tick_duration_seconds_bucket{loop="0",le="4e-06"} 99
pinion_tick_duration_seconds_bucket{loop="0",le="+Inf"} 100
process_cpu_seconds_total 1.5
`

func TestParse(t *testing.T) {
	s, err := parse(strings.NewReader(exposition))
	if err != nil {
		t.Fatal(err)
	}
	if s.loops() != 2 || s.loop("pinion_connections", 1, "") != 4 || s["process_cpu_seconds_total"] != 1.5 {
		t.Errorf("parsed %v", s)
	}
	if q := quantile(nil, s, "pinion_tick_duration_seconds", 0, 0.99); q != 4e-6 {
		t.Errorf("p99 = %v, want 4e-06", q)
	}
	if q := quantile(nil, s, "pinion_tick_duration_seconds", 0, 1); !math.IsInf(q, 1) {
		t.Errorf("p100 = %v, want +Inf", q)
	}
	if _, err := parse(strings.NewReader("pinion_x{loop=\"0\"}\n")); err == nil {
		t.Errorf("a line without a value parsed")
	}
}

// TestQuantileOfInterval: the quantile is of what the interval counted.
func TestQuantileOfInterval(t *testing.T) {
	prev := sample{`h_bucket{le="1"}`: 100, `h_bucket{le="2"}`: 100, `h_bucket{le="+Inf"}`: 100}
	cur := sample{`h_bucket{le="1"}`: 100, `h_bucket{le="2"}`: 110, `h_bucket{le="+Inf"}`: 110}
	if q := quantile(prev, cur, "h", -1, 0.5); q != 2 {
		t.Errorf("p50 over the interval = %v, want 2 (all ten new ones are in (1,2])", q)
	}
	if q := quantile(cur, cur, "h", -1, 0.5); q != 1 {
		t.Errorf("p50 with nothing new = %v, want 1 (the whole histogram)", q)
	}
}

// TestRenderFits: a frame of many loops fits 80×24.
func TestRenderFits(t *testing.T) {
	prev, cur := sample{"pinion_loops": 40}, sample{"pinion_loops": 40, "pinion_offload_workers": 256}
	for i := range 40 {
		cur[fmt.Sprintf(`pinion_connections{loop="%d"}`, i)] = 123456
		cur[fmt.Sprintf(`pinion_received_bytes_total{loop="%d"}`, i)] = 1e12
	}
	frame := render("127.0.0.1:9100", prev, cur, time.Second, time.Now())
	lines := strings.Split(strings.TrimRight(frame, "\n"), "\n")
	if len(lines) > 24 {
		t.Errorf("%d lines, want at most 24:\n%s", len(lines), frame)
	}
	for _, l := range lines {
		if len(l) > 80 {
			t.Errorf("%d columns, want at most 80: %q", len(l), l)
		}
	}
}

// FuzzParse: parse never panics, and what it reads, written back, reads
// the same.
func FuzzParse(f *testing.F) {
	f.Add(exposition)
	f.Add("a 1\nb{x=\"y\"} NaN\n# c\n\n")
	f.Add("a +Inf\n")
	f.Fuzz(func(t *testing.T, in string) {
		s, err := parse(strings.NewReader(in))
		if err != nil {
			return
		}
		keys := make([]string, 0, len(s))
		for k := range s {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&b, "%s %v\n", k, s[k])
		}
		again, err := parse(strings.NewReader(b.String()))
		if err != nil {
			t.Fatalf("written back, %q does not parse: %v", b.String(), err)
		}
		for k, v := range s {
			w, ok := again[k]
			if !ok || (w != v && !(math.IsNaN(v) && math.IsNaN(w))) {
				t.Fatalf("series %q: %v, then %v", k, v, w)
			}
		}
	})
}
