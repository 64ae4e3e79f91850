package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Targets the report checks.
const (
	targetLoopKiB    = 0.25  // KiB per idle connection, loop model, at targetIdleConns
	targetIdleConns  = 10000 // connections of the memory target
	referenceGoroKiB = 8.0   // what the goroutine model is expected to hold
)

// disturbedUtil flags a CPU run in which both the server and the client
// got less than this share of their CPUs: in a closed loop one of them is
// normally saturated, so both idling means something else had the box.
const disturbedUtil = 0.6

// report is everything the report shows.
type report struct {
	opt        options
	machine    machine
	cpu        []cpuRun
	mem        []memRun
	loadBefore string
	loadAfter  string
	took       time.Duration
}

// cpuStat is one model in one cell of the CPU table: medians over the
// repetitions, and the range of the CPU per request.
type cpuStat struct {
	runs                   int
	reqPerS, usPerReq      float64
	usMin, usMax           float64
	serverUtil, clientUtil float64
	p99                    float64
	errors                 int
}

func (r *report) cpuStat(model string, conns, pipeline int) (cpuStat, bool) {
	var rs []cpuRun
	for _, c := range r.cpu {
		if c.model == model && c.conns == conns && c.pipeline == pipeline {
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
	for _, c := range rs {
		s.errors += c.errors()
	}
	return s, true
}

// memStat is one model at one connection count: medians.
type memStat struct {
	runs       int
	kib        float64
	rss0, rssN float64
	settled    bool
}

func (r *report) memStat(model string, conns int) (memStat, bool) {
	var ms []memRun
	for _, m := range r.mem {
		if m.model == model && m.conns == conns {
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

// A target is one claim the report checks.
type target struct {
	what   string
	status string // "met", "not met", "not measured" or "reference"
	detail string
}

func (t target) verdict() string { return strings.ToUpper(t.status) }

func (r *report) targets() []target {
	cpu := target{what: "loop model uses less server CPU per request than goroutine at every point"}
	var misses []string
	points := 0
	for _, n := range r.opt.conns {
		for _, p := range r.opt.pipelines {
			l, okL := r.cpuStat("loop", n, p)
			g, okG := r.cpuStat("goroutine", n, p)
			if !okL || !okG {
				continue
			}
			points++
			if l.usPerReq >= g.usPerReq {
				misses = append(misses, fmt.Sprintf("%d conns × pipeline %d (%.3f vs %.3f µs)", n, p, l.usPerReq, g.usPerReq))
			}
		}
	}
	switch {
	case points == 0:
		cpu.status = "not measured"
	case len(misses) == 0:
		cpu.status, cpu.detail = "met", fmt.Sprintf("at all %d points", points)
	default:
		cpu.status, cpu.detail = "not met", "misses at "+strings.Join(misses, "; ")
	}

	mem := target{what: fmt.Sprintf("at %d idle connections the loop model holds at most %.2f KiB per connection", targetIdleConns, targetLoopKiB)}
	if l, ok := r.memStat("loop", targetIdleConns); !ok {
		mem.status = "not measured"
	} else {
		mem.status = "not met"
		if l.kib <= targetLoopKiB {
			mem.status = "met"
		}
		mem.detail = fmt.Sprintf("%.3f KiB", l.kib)
	}
	ref := target{what: fmt.Sprintf("goroutine model holds about %.0f KiB per idle connection (reference)", referenceGoroKiB), status: "not measured"}
	if g, ok := r.memStat("goroutine", targetIdleConns); ok {
		ref.status, ref.detail = "reference", fmt.Sprintf("%.2f KiB", g.kib)
	}
	return []target{cpu, mem, ref}
}

func writeReport(path string, r *report) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(r.markdown()), 0o644)
}

func (r *report) markdown() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	m, o := r.machine, r.opt
	w("# Benchmarks: server CPU per request and memory per connection\n\n")
	w("Generated by `bench/cmd/cpumem`")
	if o.quick {
		w(" in **quick mode** (a smoke test: one short run per cell; do not quote these figures)")
	}
	w(". It compares pinion's event-loop model (`-model loop`) with the\n")
	w("goroutine-per-connection baseline on the `net` package (`-model goroutine`), both serving `-proto echo`.\n\n")

	w("## Machine\n\n| | |\n|---|---|\n")
	w("| CPU | %s |\n| cores | %d |\n| kernel | %s |\n| Go | %s |\n", m.cpu, m.cores, m.kernel, m.goVer)
	dirty := ""
	if m.dirty {
		dirty = " (with uncommitted changes in tracked files)"
	}
	w("| commit | `%s`%s |\n| date | %s (took %v) |\n", m.commit, dirty, m.date.Format("2006-01-02 15:04 UTC"), r.took.Round(time.Second))
	w("| load average | %s before, %s after |\n\n", r.loadBefore, r.loadAfter)

	w("## How to read it\n\n")
	w("The server runs on CPU %d and the load generator on CPU %d (`taskset`), one event loop\n", o.serverCPU, o.clientCPU)
	w("(`-loops 1 -pin=false`: taskset does the pinning) or, for the baseline, `GOMAXPROCS` 1 from the\n")
	w("affinity mask. On a box this small the client and the server compete for the machine, and the\n")
	w("client (a goroutine per connection on one core) is at least as busy as the server (see the CPU\n")
	w("shares): **requests per second are client-bound and shown only for context. The figures that\n")
	w("carry are server CPU per request and memory per idle connection**, which do not depend on how\n")
	w("fast the client is. The box may be shared with other work: the load average above and the\n")
	w("ranges below say how much that disturbed the runs.\n\n")
	w("- *server µs/req*: the server's user+system CPU time (`/proc/PID/stat` fields 14 and 15, in\n")
	w("  ticks of 1/%d s) over the load's measured window, divided by the requests completed in it.\n", m.clkTick)
	w("  The window is marked by `pinion load` itself (`pinion load: measuring` / `measured` on stderr),\n")
	w("  after a %v warm-up; each cell ran %d time(s) with the models interleaved, and the table gives\n", o.warmup, o.repeat)
	w("  the median with the range of the runs.\n")
	w("- *client CPU*: the load generator's own CPU time over its window (it measures itself: `cpu_s`\n")
	w("  in its JSON report), as a share of one core.\n")
	w("- *KiB/conn*: (VmRSS with N idle connections − VmRSS of the fresh server) / N. Each connection\n")
	w("  echoed one %d-byte message and then stayed idle; RSS is read once it stops moving. Kernel\n", o.size)
	w("  memory (socket buffers, epoll) is not in RSS and not counted.\n")
	w("- A request is %d bytes; a connection writes `pipeline` requests at once and reads all the\n", o.size)
	w("  responses back (verified byte for byte) before writing the next batch.\n\n")

	w("## Reproduce\n\n```sh\ncd bench && go run ./cmd/cpumem")
	for _, a := range o.args {
		w(" %s", a)
	}
	w("\n```\n\nEach CPU run is, by hand:\n\n```sh\nCGO_ENABLED=0 go build -o /tmp/pinion ./cmd/pinion\n")
	w("taskset -c %d /tmp/pinion %s\n", o.serverCPU, strings.Join(serverArgs("loop"), " "))
	w("taskset -c %d /tmp/pinion load -addr 127.0.0.1:PORT -proto echo -conns 1000 -pipeline 16 -size %d -warmup %v -duration %v -json\n",
		o.clientCPU, o.size, o.warmup, o.duration)
	w("```\n\nand each memory run starts a fresh server, then holds idle connections until stdin closes:\n\n")
	w("```sh\ntaskset -c %d /tmp/pinion load -idle -addr 127.0.0.1:PORT -proto echo -conns 10000 -size %d   # prints \"ready 10000\"\n", o.clientCPU, o.size)
	w("grep VmRSS /proc/$(pgrep -n -f 'pinion serve')/status\n```\n\n")

	r.cpuTable(w)
	r.memTable(w)

	w("## Targets\n\n")
	for _, t := range r.targets() {
		w("- **%s**: %s", t.verdict(), t.what)
		if t.detail != "" {
			w(" — %s", t.detail)
		}
		w(".\n")
	}
	return b.String()
}

func (r *report) cpuTable(w func(string, ...any)) {
	o := r.opt
	w("## Server CPU per request\n\n")
	w("Median of %d run(s) of %v each; the range of the runs in brackets.\n\n", o.repeat, o.duration)
	w("| conns | pipeline | loop req/s | goroutine req/s | loop server µs/req | goroutine server µs/req | loop / goroutine | loop server / client CPU | goroutine server / client CPU | loop p99 | goroutine p99 |\n")
	w("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, n := range o.conns {
		for _, p := range o.pipelines {
			l, okL := r.cpuStat("loop", n, p)
			g, okG := r.cpuStat("goroutine", n, p)
			ratio := "–"
			if okL && okG {
				ratio = fmt.Sprintf("%.2f", l.usPerReq/g.usPerReq)
			}
			w("| %d | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", n, p,
				rate(l, okL), rate(g, okG), perReq(l, okL), perReq(g, okG), ratio,
				util(l, okL), util(g, okG), p99(l, okL), p99(g, okG))
		}
	}
	var errs []string
	for _, c := range r.cpu {
		if c.errors() > 0 {
			errs = append(errs, fmt.Sprintf("%s %d×%d: %d (%s)", c.model, c.conns, c.pipeline, c.errors(), c.load.FirstError))
		}
	}
	if len(errs) > 0 {
		w("\nRuns with connect, I/O or timeout errors: %s.\n", strings.Join(errs, "; "))
	}
	var starved []string
	for _, c := range r.cpu {
		if c.serverUtil() < disturbedUtil && c.clientUtil() < disturbedUtil {
			starved = append(starved, fmt.Sprintf("%s %d×%d (server %.0f%%, client %.0f%%)",
				c.model, c.conns, c.pipeline, 100*c.serverUtil(), 100*c.clientUtil()))
		}
	}
	if len(starved) > 0 {
		w("\nRuns where neither side got %.0f%% of its CPU, most likely disturbed by other work on the box (they count in the medians): %s.\n",
			100*disturbedUtil, strings.Join(starved, "; "))
	}
	w("\n")
}

func rate(s cpuStat, ok bool) string {
	if !ok {
		return "–"
	}
	return fmt.Sprintf("%.0f", s.reqPerS)
}

func perReq(s cpuStat, ok bool) string {
	if !ok {
		return "–"
	}
	if s.runs == 1 {
		return fmt.Sprintf("%.3f", s.usPerReq)
	}
	return fmt.Sprintf("%.3f [%.3f–%.3f]", s.usPerReq, s.usMin, s.usMax)
}

func util(s cpuStat, ok bool) string {
	if !ok {
		return "–"
	}
	return fmt.Sprintf("%.0f%% / %.0f%%", 100*s.serverUtil, 100*s.clientUtil)
}

func p99(s cpuStat, ok bool) string {
	if !ok {
		return "–"
	}
	return (time.Duration(s.p99 * float64(time.Microsecond))).Round(time.Microsecond).String()
}

func (r *report) memTable(w func(string, ...any)) {
	o := r.opt
	w("## Memory per idle connection\n\n")
	w("Median of %d run(s); RSS in MiB, fresh server → with the connections.\n\n", o.repeat)
	w("| idle conns | loop KiB/conn | goroutine KiB/conn | loop RSS | goroutine RSS |\n|---:|---:|---:|---:|---:|\n")
	for _, n := range o.memConns {
		l, okL := r.memStat("loop", n)
		g, okG := r.memStat("goroutine", n)
		w("| %d | %s | %s | %s | %s |\n", n, kib(l, okL), kib(g, okG), rss(l, okL), rss(g, okG))
	}
	w("\n## Other reports\n\n")
	w("- [benchmarks-offload.md](benchmarks-offload.md): blocking work on the offload pool against the goroutine model, 10,000 connections, several pool sizes.\n")
	w("- [benchmarks-protocols.md](benchmarks-protocols.md): HTTP and RESP against the goroutine model, net/http and redis-server.\n")
	w("- `bench/ab.sh OLD NEW` compares the server CPU per request of two builds, interleaved.\n")
}

func kib(s memStat, ok bool) string {
	if !ok {
		return "–"
	}
	out := fmt.Sprintf("%.3f", s.kib)
	if !s.settled {
		out += " (RSS still moving)"
	}
	return out
}

func rss(s memStat, ok bool) string {
	if !ok {
		return "–"
	}
	return fmt.Sprintf("%.1f → %.1f", s.rss0/1024, s.rssN/1024)
}
