package main

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestRotate(t *testing.T) {
	xs := []string{"a", "b", "c"}
	for i, want := range [][]string{{"a", "b", "c"}, {"b", "c", "a"}, {"c", "a", "b"}, {"a", "b", "c"}} {
		if got := rotate(xs, i); !slices.Equal(got, want) {
			t.Errorf("rotate(%v, %d) = %v, want %v", xs, i, got, want)
		}
	}
	if !slices.Equal(xs, []string{"a", "b", "c"}) {
		t.Errorf("rotate changed its input: %v", xs)
	}
}

// fakeRun is a run of server s in cell (work, conns) that served reqs
// requests in one second with us µs of server CPU each.
func fakeRun(v, s, work string, conns int, us float64, reqs uint64, clientUtil float64) cpuRun {
	c := cpuRun{server: s, work: work, conns: conns, variant: v, window: time.Second, rssKiB: 10 << 10}
	c.load.Requests, c.load.RequestsPerS, c.load.DurationS, c.load.CPUS = reqs, float64(reqs), 1, clientUtil
	c.serverCPU = time.Duration(us * float64(reqs) * float64(time.Microsecond))
	c.load.Latency.P99 = 1500
	return c
}

// testReport is a report of one goal workload at one connection count in
// which loop needs loopUs µs per request, gnet 1.2 µs and C 1.0 µs.
func testReport(t *testing.T, loopUs float64) *report {
	dir := t.TempDir()
	w, _ := workloadByName("echo64-p1")
	r := &report{
		opt: options{out: filepath.Join(dir, "b.md"), plots: filepath.Join(dir, "benchmarks"), repeat: 1, memRepeat: 1,
			servers: serverNames(), workloads: []workload{w}, conns: []int{100, 1000}, memConns: []int{1000, 10000}},
		machine: machine{date: time.Now(), clkTick: 100},
		pinned:  variant{name: "pinned", loops: 1, pinned: true, serverCPU: "0", clientCPUs: "1"},
		wide:    variant{name: "unpinned", loops: 2},
	}
	for _, n := range r.opt.conns {
		r.cpu = append(r.cpu,
			fakeRun("pinned", "loop", w.name, n, loopUs, 100000, 0.99),
			fakeRun("pinned", "goroutine", w.name, n, 1.5, 90000, 0.99),
			fakeRun("pinned", "gnet", w.name, n, 1.2, 95000, 0.5),
			fakeRun("pinned", "c", w.name, n, 1.0, 120000, 0.99))
	}
	for _, s := range serverNames() {
		for _, n := range r.opt.memConns {
			r.mem = append(r.mem, memRun{server: s, conns: n, rss0: 2000, rssN: 2000 + int64(n)/5, settled: true})
		}
	}
	return r
}

func TestGoals(t *testing.T) {
	verdicts := func(r *report) []string {
		var out []string
		for _, g := range r.goals() {
			out = append(out, g.status)
		}
		return out
	}
	// loop 1.0 µs: 1.2× gnet, 1.0× C; 0.2 KiB per connection; C fastest.
	if got, want := verdicts(testReport(t, 1.0)), []string{"met", "met", "met", "met"}; !slices.Equal(got, want) {
		t.Errorf("loop at 1.0 µs: goals %v, want %v", got, want)
	}
	// loop 1.2 µs: 1.0× gnet, 0.83× C.
	r := testReport(t, 1.2)
	if got, want := verdicts(r), []string{"not met", "not met", "met", "met"}; !slices.Equal(got, want) {
		t.Errorf("loop at 1.2 µs: goals %v, want %v", got, want)
	}
	if d := r.goals()[0].detail; !strings.Contains(d, "echo64-p1 × 100 conns (1.00×)") {
		t.Errorf("gnet goal detail %q does not name the missed point", d)
	}
	// A Go server driven faster than C: the load generator is the limit.
	r.cpu = append(r.cpu[:0:0], r.cpu...)
	for i := range r.cpu {
		if r.cpu[i].server == "loop" {
			r.cpu[i].load.RequestsPerS = 200000
		}
	}
	if g := r.headroom(); g.status != "not met" || !strings.Contains(g.detail, "at 2 of 2 cells a Go server got more: echo64-p1 × 100 conns: C 120000 req/s, loop 200000") {
		t.Errorf("headroom = %+v, want not met naming loop", g)
	}
}

func TestSavedRoundTrip(t *testing.T) {
	r := testReport(t, 1.1)
	r.opt.args = []string{"-repeat", "1"}
	r.loadBefore, r.loadAfter, r.took = "0.1 0.2 0.3", "1 2 3", 90*time.Second
	path := filepath.Join(t.TempDir(), runsFile)
	if err := r.save(path); err != nil {
		t.Fatal(err)
	}
	back, err := loadSaved(path, options{out: r.opt.out, plots: r.opt.plots})
	if err != nil {
		t.Fatal(err)
	}
	r.machine.date = r.machine.date.Round(0) // as JSON keeps it
	if want, got := r.markdown(), back.markdown(); got != want {
		t.Errorf("the report from %s differs from the one measured:\n%s\n---- want ----\n%s", runsFile, got, want)
	}
}

func TestWriteReport(t *testing.T) {
	r := testReport(t, 1.0)
	if err := writeReport(r); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(r.opt.out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"## Goals", "**MET**: loop serves at least 1.10×",
		"| 100 | loop | 100000 † | 1.000 | 1.50× | 10% | 99% | 1.5ms | 10.0 |",
		"| 100 | gnet | 95000 | 1.200 | 1.25× |", // client at 50%: not client-bound
		"| 100 | goroutine | 90000 † | 1.500 | 1.00× |",
		"| echo64-p1 | 100 | 1.000 | 1.200 | 1.000 | 1.20× ✓ | 1.00× ✓ |",
		"| loop | 0.200 | 0.200 | 2.0 → 3.9 |",
		"![server CPU per request](benchmarks/cpu-per-request.svg)",
		"![memory per connection](benchmarks/memory-per-connection.svg)",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	for _, f := range []string{"cpu-per-request.svg", "memory-per-connection.svg"} {
		b, err := os.ReadFile(filepath.Join(r.opt.plots, f))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "<svg") || !strings.Contains(string(b), "gnet") {
			t.Errorf("%s is not an SVG with a gnet series (%d bytes)", f, len(b))
		}
	}
	// No unpinned runs and fewer than two counts: no plot, and no link to one.
	if _, err := os.Stat(filepath.Join(r.opt.plots, "cpu-per-request-unpinned.svg")); err == nil {
		t.Error("an unpinned plot was written without unpinned runs")
	}
}

func TestRetry(t *testing.T) {
	var log strings.Builder
	r := &runner{log: &log}
	calls := 0
	_, err := retry(r, func() (int, error) {
		calls++
		return 0, &errVerify{"a wrong response"}
	})
	var wrong *errVerify
	if !errors.As(err, &wrong) || calls != 1 {
		t.Errorf("a verification error: %d calls, error %v; want 1 call and the error, not retried", calls, err)
	}
	calls = 0
	v, err := retry(r, func() (int, error) {
		calls++
		if calls == 1 {
			return 0, os.ErrDeadlineExceeded
		}
		return 7, nil
	})
	if v != 7 || err != nil || calls != 2 || !strings.Contains(log.String(), "trying once more") {
		t.Errorf("a disturbed run: %d calls, %v, %v, log %q; want a logged second try that succeeds", calls, v, err, log.String())
	}
}

func TestEfficiencyPairsRepetitions(t *testing.T) {
	r := &report{}
	// A slow spell hits both servers in repetition 2, and gnet alone in 3.
	for _, us := range [][2]float64{{1.0, 1.1}, {1.5, 1.65}, {1.5, 1.1}} {
		r.cpu = append(r.cpu,
			fakeRun("pinned", "loop", "echo64-p1", 100, us[0], 100000, 0.99),
			fakeRun("pinned", "gnet", "echo64-p1", 100, us[1], 100000, 0.99))
	}
	e, ok := r.efficiency("pinned", "echo64-p1", 100, "loop", "gnet")
	if !ok || e < 1.099 || e > 1.101 {
		t.Errorf("efficiency = %.3f, %v; want the median of the paired ratios, 1.100", e, ok)
	}
	l, _ := r.cpuStat("pinned", "echo64-p1", 100, "loop")
	g, _ := r.cpuStat("pinned", "echo64-p1", 100, "gnet")
	if unpaired := g.usPerReq / l.usPerReq; unpaired > 0.75 {
		t.Errorf("the ratio of the medians is %.3f; the test means it to differ from the paired one", unpaired)
	}
	if e, ok := r.efficiency("pinned", "echo64-p1", 100, "gnet", "gnet"); !ok || e != 1 {
		t.Errorf("a server against itself: %v, %v; want 1, true", e, ok)
	}
	if _, ok := r.efficiency("pinned", "echo64-p1", 100, "loop", "c"); ok {
		t.Error("efficiency against a server with no runs: ok")
	}
}

func TestScaleLayout(t *testing.T) {
	for _, tc := range []struct {
		cpus int
		want []int
	}{{2, nil}, {3, nil}, {4, []int{1, 2}}, {16, []int{1, 2, 4, 8}}, {32, []int{1, 2, 4, 8, 16}}} {
		if got := autoScaleLoops(tc.cpus); !slices.Equal(got, tc.want) {
			t.Errorf("autoScaleLoops(%d) = %v, want %v", tc.cpus, got, tc.want)
		}
	}
	v := scaleVariant(4, 16)
	if v.name != "scale-4" || v.loops != 4 || !v.pinned || v.serverCPU != "0-3" || v.clientCPUs != "4-15" {
		t.Errorf("scaleVariant(4, 16) = %+v", v)
	}
	if v := scaleVariant(1, 2); v.serverCPU != "0" || v.clientCPUs != "1" {
		t.Errorf("scaleVariant(1, 2) = %+v", v)
	}
}

func TestScaleTable(t *testing.T) {
	r := testReport(t, 1.0)
	r.cpus, r.opt.scaleLoops = 16, []int{1, 8}
	for _, n := range r.opt.scaleLoops {
		v := scaleVariant(n, r.cpus).name
		r.cpu = append(r.cpu,
			fakeRun(v, "loop", "echo64-p16", scaleConns, 0.4, uint64(n)*1000000, 2.0),
			fakeRun(v, "gnet", "echo64-p16", scaleConns, 0.5, uint64(n)*900000, 2.0))
	}
	md := r.markdown()
	for _, want := range []string{
		"## Scaling",
		"| 1 | 0 | 1-15 | loop | 1000000 | 0.40 | 0.400 | 200% |",
		"| 8 | 0-7 | 8-15 | gnet | 7200000 | 3.60 | 0.500 | 200% |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}
