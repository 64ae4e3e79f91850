package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// The goals the report is held to.
const (
	goalVsGnet      = 1.10  // requests per server CPU-second, loop over gnet
	goalVsC         = 0.95  // the same, loop over the C reference
	goalLoopKiB     = 0.25  // KiB per idle connection, loop model, at goalIdleConns
	goalIdleConns   = 10000 // connections of the memory goal
	clientBoundUtil = 0.90  // a client this busy limited the run's throughput
)

// disturbedUtil flags a run in which both the server and the client got
// less than this share of their CPUs: in a closed loop one of them is
// normally saturated, so both idling means something else had the box.
const disturbedUtil = 0.6

// report is everything the report shows.
type report struct {
	opt          options
	machine      machine
	pinned, wide variant
	cpu          []cpuRun
	mem          []memRun
	cpus         int // CPUs the runner could use (the scaling table's layout)
	loadBefore   string
	loadAfter    string
	took         time.Duration
}

// cpuStat is one server in one cell: medians over the repetitions, and the
// range of the CPU per request.
type cpuStat struct {
	runs                   int
	reqPerS, usPerReq      float64
	usMin, usMax           float64
	serverUtil, clientUtil float64
	p99                    float64
	rssKiB                 float64
	errors                 int
}

// clientBound says the load generator, not the server, set the pace.
func (s cpuStat) clientBound() bool { return s.clientUtil >= clientBoundUtil }

func (r *report) cpuStat(v, work string, conns int, server string) (cpuStat, bool) {
	var rs []cpuRun
	for _, c := range r.cpu {
		if c.variant == v && c.work == work && c.conns == conns && c.server == server {
			rs = append(rs, c)
		}
	}
	if len(rs) == 0 {
		return cpuStat{}, false
	}
	s := cpuStat{runs: len(rs)}
	us := collect(rs, cpuRun.serverUsPerReq)
	s.usPerReq, s.usMin, s.usMax = median(us), slices.Min(us), slices.Max(us)
	s.reqPerS = median(collect(rs, func(c cpuRun) float64 { return c.load.RequestsPerS }))
	s.serverUtil = median(collect(rs, cpuRun.serverUtil))
	s.clientUtil = median(collect(rs, cpuRun.clientUtil))
	s.p99 = median(collect(rs, func(c cpuRun) float64 { return c.load.Latency.P99 }))
	s.rssKiB = median(collect(rs, func(c cpuRun) float64 { return float64(c.rssKiB) }))
	for _, c := range rs {
		s.errors += c.errors()
	}
	return s, true
}

// memStat is one server at one connection count: medians.
type memStat struct {
	runs       int
	kib        float64
	rss0, rssN float64
	settled    bool
}

func (r *report) memStat(server string, conns int) (memStat, bool) {
	var ms []memRun
	for _, m := range r.mem {
		if m.server == server && m.conns == conns {
			ms = append(ms, m)
		}
	}
	if len(ms) == 0 {
		return memStat{}, false
	}
	s := memStat{runs: len(ms), settled: true}
	s.kib = median(collect(ms, memRun.kibPerConn))
	s.rss0 = median(collect(ms, func(m memRun) float64 { return float64(m.rss0) }))
	s.rssN = median(collect(ms, func(m memRun) float64 { return float64(m.rssN) }))
	for _, m := range ms {
		s.settled = s.settled && m.settled
	}
	return s, true
}

func collect[T any](xs []T, f func(T) float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// A goal is one claim the report checks.
type goal struct {
	what   string
	status string // "met", "not met", "not measured" or "reference"
	detail string
}

func (g goal) verdict() string { return strings.ToUpper(g.status) }

// judge sets g's status and detail from the points checked and the misses
// among them: allMet formats the point count, someMissed the misses' count,
// the point count and the misses themselves.
func (g *goal) judge(points int, misses []string, allMet, someMissed string) {
	switch {
	case points == 0:
		g.status = "not measured"
	case len(misses) == 0:
		g.status, g.detail = "met", fmt.Sprintf(allMet, points)
	default:
		g.status = "not met"
		g.detail = fmt.Sprintf(someMissed, len(misses), points, strings.Join(misses, "; "))
	}
}

// efficiency is how many times as many requests per server CPU-second
// server a serves as server b in one cell: the median, over the repetitions, of
// b's CPU per request over a's in the same repetition. The two ran side by
// side within seconds of each other, so a slow spell of the machine that
// lasts longer than a run weighs on both sides of a ratio, where it would
// move one median alone. The k-th run of a server in a cell is from its
// k-th repetition: runs are recorded in order.
func (r *report) efficiency(v, work string, conns int, a, b string) (float64, bool) {
	if a == b {
		_, ok := r.cpuStat(v, work, conns, a)
		return 1, ok
	}
	var as, bs []float64
	for _, c := range r.cpu {
		if c.variant != v || c.work != work || c.conns != conns {
			continue
		}
		switch c.server {
		case a:
			as = append(as, c.serverUsPerReq())
		case b:
			bs = append(bs, c.serverUsPerReq())
		}
	}
	n := min(len(as), len(bs))
	if n == 0 {
		return 0, false
	}
	ratios := make([]float64, n)
	for k := range n {
		ratios[k] = bs[k] / as[k]
	}
	return median(ratios), true
}

// goals checks the CPU goals against gnet and the C reference at every
// goal point of the pinned matrix, and the memory goal.
func (r *report) goals() []goal {
	peer := func(name string, want float64) goal {
		g := goal{what: fmt.Sprintf("loop serves at least %.2f× the requests per server CPU-second of %s (echo and HTTP, pipeline 1 and 16, every connection count)", want, name)}
		var misses []string
		points := 0
		for _, w := range r.opt.workloads {
			if !w.goal {
				continue
			}
			for _, n := range r.opt.conns {
				e, ok := r.efficiency(r.pinned.name, w.name, n, "loop", name)
				if !ok {
					continue
				}
				points++
				if e < want {
					misses = append(misses, fmt.Sprintf("%s × %d conns (%.2f×)", w.name, n, e))
				}
			}
		}
		g.judge(points, misses, "at all %d points", "short at %d of %d points: %s")
		return g
	}
	mem := goal{what: fmt.Sprintf("at %d idle connections loop holds at most %.2f KiB per connection", goalIdleConns, goalLoopKiB)}
	if l, ok := r.memStat("loop", goalIdleConns); !ok {
		mem.status = "not measured"
	} else {
		mem.status = "not met"
		if l.kib <= goalLoopKiB {
			mem.status = "met"
		}
		mem.detail = fmt.Sprintf("%.3f KiB", l.kib)
	}
	return []goal{peer("gnet", goalVsGnet), peer("c", goalVsC), mem, r.headroom()}
}

// headroom checks that the load generator is not what limits the fastest
// server: in every pinned echo cell, the C reference is driven to at
// least the requests per second of every Go server.
func (r *report) headroom() goal {
	g := goal{what: "the load generator drives the C reference at least as fast as any Go server (pinned echo cells)"}
	var misses []string
	points := 0
	for _, w := range r.opt.workloads {
		if w.proto != "echo" {
			continue
		}
		for _, n := range r.opt.conns {
			c, ok := r.cpuStat(r.pinned.name, w.name, n, "c")
			if !ok {
				continue
			}
			points++
			var faster []string
			for _, s := range r.opt.servers {
				if s == "c" {
					continue
				}
				if o, ok := r.cpuStat(r.pinned.name, w.name, n, s); ok && o.reqPerS > c.reqPerS {
					faster = append(faster, fmt.Sprintf("%s %.0f", s, o.reqPerS))
				}
			}
			if len(faster) > 0 {
				misses = append(misses, fmt.Sprintf("%s × %d conns: C %.0f req/s, %s", w.name, n, c.reqPerS, strings.Join(faster, ", ")))
			}
		}
	}
	g.judge(points, misses, "at all %d cells", "at %d of %d cells a Go server got more: %s")
	return g
}

// plotFiles are the plots, relative to the report's directory.
func (r *report) plotFiles() (cpu, wide, mem string) {
	rel, err := filepath.Rel(filepath.Dir(r.opt.out), r.opt.plots)
	if err != nil {
		rel = r.opt.plots
	}
	return filepath.Join(rel, "cpu-per-request.svg"), filepath.Join(rel, "cpu-per-request-unpinned.svg"),
		filepath.Join(rel, "memory-per-connection.svg")
}

func writeReport(r *report) error {
	if err := os.MkdirAll(filepath.Dir(r.opt.out), 0o755); err != nil {
		return err
	}
	if err := r.writePlots(); err != nil {
		return fmt.Errorf("plots: %w", err)
	}
	return os.WriteFile(r.opt.out, []byte(r.markdown()), 0o644)
}

func (r *report) writePlots() error {
	cpuFile, wideFile, memFile := r.plotFiles()
	dir := filepath.Dir(r.opt.out)
	for _, v := range []struct {
		variant variant
		conns   []int
		file    string
	}{{r.pinned, r.opt.conns, cpuFile}, {r.wide, r.opt.wideConns, wideFile}} {
		if len(v.conns) < 2 {
			// One connection count makes no line; the tables say it all.
			_ = os.Remove(filepath.Join(dir, v.file))
			continue
		}
		var charts []chart
		for _, w := range r.opt.workloads {
			c := chart{title: w.title, xLabel: "connections", yLabel: "server CPU µs/request"}
			for _, s := range r.opt.servers {
				var xy plotter.XYs
				for _, n := range v.conns {
					if st, ok := r.cpuStat(v.variant.name, w.name, n, s); ok {
						xy = append(xy, plotter.XY{X: float64(n), Y: st.usPerReq})
					}
				}
				c.series = append(c.series, series{name: s, xy: xy})
			}
			charts = append(charts, c)
		}
		if err := writeCharts(filepath.Join(dir, v.file), charts, 2, 9*vg.Centimeter, 7*vg.Centimeter); err != nil {
			return err
		}
	}
	c := chart{title: "memory per idle connection", xLabel: "idle connections", yLabel: "KiB per connection (RSS)", logY: true}
	for _, s := range r.opt.servers {
		var xy plotter.XYs
		for _, n := range r.opt.memConns {
			if st, ok := r.memStat(s, n); ok {
				// A log axis cannot show zero or less: RSS noise can give a
				// server that holds almost nothing per connection either.
				xy = append(xy, plotter.XY{X: float64(n), Y: max(st.kib, minPlotKiB)})
			}
		}
		c.series = append(c.series, series{name: s, xy: xy})
	}
	if len(r.opt.memConns) < 2 {
		_ = os.Remove(filepath.Join(dir, memFile))
		return nil
	}
	return writeCharts(filepath.Join(dir, memFile), []chart{c}, 1, 14*vg.Centimeter, 9*vg.Centimeter)
}

// minPlotKiB is the floor of the memory plot's log axis.
const minPlotKiB = 0.01
