package main

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestSoak runs every protocol (echo, http, resp) on both models at once
// for SOAK_DURATION (skipped when unset; `make soak` sets 10m, `make test`
// 60s) under a mix of steady load, connection churn, reset storms, slow
// readers of large replies, offload storms (HTTP's /block, the protocol
// with blocking work) and idle connections, and samples the process every
// second: RSS and live heap (after a GC that returns the free heap to the
// kernel), goroutines and descriptors.
//
// It fails when a client that must succeed sees a wrong reply or an error,
// when descriptors or goroutines are not back to their baseline once the
// clients are gone, or when the trend (least squares over the second half
// of the run) grows past soakHeapGrowth (live heap), soakRSSGrowth (RSS)
// or soakGoroutineGrowth. Heap profiles from just after the warm-up and from
// the end go to SOAK_DIR (default: a new temporary directory), with the
// samples as CSV.
//
// The servers run in the test process, not as subprocesses: the heap, the
// goroutines and the heap profiles can only be read from inside (pinion
// serve has no admin endpoint yet), and the servers' own start code is
// reused. The clients share the process, so their memory and goroutines
// are in the figures too; they are fixed in number and size and keep
// nothing from one round to the next, so they add a constant, and a leak
// in them would be a bug to see as well.
func TestSoak(t *testing.T) {
	d, err := soakDuration()
	if err != nil {
		t.Fatal(err)
	}
	if d == 0 {
		t.Skip("SOAK_DURATION not set (make soak sets 10m)")
	}
	dir := os.Getenv("SOAK_DIR")
	if dir == "" {
		dir, err = os.MkdirTemp("", "pinion-soak-")
		if err != nil {
			t.Fatal(err)
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("soak for %v; profiles and samples in %s", d, dir)

	baseFDs, baseG := processFDs(t), runtime.NumGoroutine()
	protos := soakProtos()
	type combo struct {
		name string
		n    *soakCounts
	}
	var combos []combo
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var wg sync.WaitGroup
	var servers []server
	for _, proto := range []string{"echo", "http", "resp"} {
		for _, model := range []string{"loop", "goroutine"} {
			srv := newServer(t, model, func(c *serveConfig) {
				c.proto = proto
				c.offloadWorkers, c.offloadQueue = 4, 16
				c.idleTimeout = d + time.Minute // the idle clients stay for the whole soak
			})
			servers = append(servers, srv)
			p := protos[proto]
			if p.setup != nil {
				sc, err := soakDial(srv.addr(), p)
				if err != nil {
					t.Fatal(err)
				}
				if err := p.setup(sc.c, sc.br); err != nil {
					t.Fatalf("%s %s setup: %v", proto, model, err)
				}
				_ = sc.c.Close()
			}
			n := &soakCounts{}
			combos = append(combos, combo{proto + "/" + model, n})
			soakStart(ctx, &wg, srv.addr(), p, n)
		}
	}

	samples := soakSample(ctx, t, dir, d)
	wg.Wait()
	for _, c := range combos {
		if err := c.n.failed(); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		t.Logf("%s: %d requests, %d churned connections, %d resets, %d offload storms",
			c.name, c.n.requests.Load(), c.n.conns.Load(), c.n.resets.Load(), c.n.storms.Load())
	}
	for _, srv := range servers {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := srv.shutdown(sctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		scancel()
	}
	if err := soakWriteProfile(filepath.Join(dir, "heap-end.pprof")); err != nil {
		t.Error(err)
	}
	soakCheck(t, samples, baseFDs, baseG)
}

// The bounds of the trends over the second half of the run: a straight
// line fitted by least squares to the minimum of each soakWindow
// one-second samples may rise by at most this much from the start of the
// second half to its end. Being growth over the half, not a rate, they
// are loose for a 60s run and tight for 10 minutes (8 MiB of RSS over 5
// minutes is 1.6 MiB/min).
//
// RSS is sampled after debug.FreeOSMemory, which returns every free page
// of the heap to the kernel: RSS is then what the process cannot give
// back (the heap in use, stacks, the runtime's own structures, memory
// outside the Go heap), where a leak shows. Without it RSS also counts
// free heap pages the servers touched since the runtime last released
// them, anywhere between the heap in use (about 41 MiB here) and what the
// runtime holds from the kernel (about 80 MiB, twice the live heap at
// GOGC=100): on a loaded machine the minima of 5-second windows moved by
// ±10 MiB, and a 60-second run failed the bound with its heap flat.
const (
	soakWindow          = 5
	soakHeapGrowth      = 4 << 20 // live heap, bytes
	soakRSSGrowth       = 8 << 20 // RSS, bytes
	soakGoroutineGrowth = 0.05    // goroutines, as a share of their mean (at least 10)
)

func soakDuration() (time.Duration, error) {
	s := os.Getenv("SOAK_DURATION")
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 10*time.Second {
		return 0, fmt.Errorf("SOAK_DURATION=%q: want a duration of at least 10s", s)
	}
	return d, nil
}

// soakStart starts one combination's workloads.
func soakStart(ctx context.Context, wg *sync.WaitGroup, addr string, p soakProto, n *soakCounts) {
	run := func(f func()) {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}
	for range 4 {
		run(func() { soakSteady(ctx, addr, p, n) })
	}
	run(func() { soakChurn(ctx, addr, p, 20*time.Millisecond, n) })
	run(func() { soakResets(ctx, addr, p, 20, 2*time.Second, n) })
	run(func() { soakSlowReader(ctx, addr, p, 16<<20, n) })
	if p.block != nil {
		run(func() { soakOffloadStorm(ctx, addr, p, 50, 3*time.Second, n) })
	}
	run(func() { soakIdle(ctx, addr, p, 50, n) })
}

// soakPoint is one sample.
type soakPoint struct {
	at         time.Duration
	rss, heap  int64
	goroutines int
	fds        int
}

// soakSample samples the process every second until ctx ends, writes the
// start profile once a tenth of the run has passed, and returns the
// samples.
func soakSample(ctx context.Context, t *testing.T, dir string, d time.Duration) []soakPoint {
	start := time.Now()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var pts []soakPoint
	profiled := false
	for {
		select {
		case <-ctx.Done():
			soakWriteCSV(t, filepath.Join(dir, "samples.csv"), pts)
			return pts
		case <-tick.C:
		}
		debug.FreeOSMemory()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		pts = append(pts, soakPoint{
			at: time.Since(start), rss: soakRSS(), heap: int64(ms.HeapAlloc),
			goroutines: runtime.NumGoroutine(), fds: processFDs(t),
		})
		if !profiled && time.Since(start) >= d/10 {
			profiled = true
			if err := soakWriteProfile(filepath.Join(dir, "heap-start.pprof")); err != nil {
				t.Error(err)
			}
		}
	}
}

// soakCheck applies the soak's bounds.
func soakCheck(t *testing.T, pts []soakPoint, baseFDs, baseG int) {
	if len(pts) < 4*soakWindow {
		t.Fatalf("%d samples, want at least %d", len(pts), 4*soakWindow)
	}
	half := pts[len(pts)/2:]
	// The trends are fitted to the minimum of each soakWindow samples:
	// what the process keeps, without the replies and requests in flight
	// at the instant of a sample, which would only add noise.
	slope := func(v func(soakPoint) float64) float64 { // per minute
		var sx, sy, sxx, sxy, n float64
		for i := 0; i+soakWindow <= len(half); i += soakWindow {
			x, y := half[i].at.Minutes(), math.Inf(1)
			for _, p := range half[i : i+soakWindow] {
				y = math.Min(y, v(p))
			}
			sx, sy, sxx, sxy, n = sx+x, sy+y, sxx+x*x, sxy+x*y, n+1
		}
		return (n*sxy - sx*sy) / (n*sxx - sx*sx)
	}
	mean := func(v func(soakPoint) float64) float64 {
		var s float64
		for _, p := range half {
			s += v(p)
		}
		return s / float64(len(half))
	}
	heapSlope := slope(func(p soakPoint) float64 { return float64(p.heap) })
	rssSlope := slope(func(p soakPoint) float64 { return float64(p.rss) })
	gSlope := slope(func(p soakPoint) float64 { return float64(p.goroutines) })
	gMean := mean(func(p soakPoint) float64 { return float64(p.goroutines) })
	halfMin := (half[len(half)-1].at - half[0].at).Minutes()
	last := pts[len(pts)-1]
	t.Logf("second half (%d samples, minima of %ds windows): live heap %+.2f MiB/min (mean %.1f MiB), RSS %+.2f MiB/min (mean %.1f MiB), goroutines %+.1f/min (mean %.0f), descriptors at the end %d",
		len(half), soakWindow, heapSlope/(1<<20), mean(func(p soakPoint) float64 { return float64(p.heap) })/(1<<20),
		rssSlope/(1<<20), mean(func(p soakPoint) float64 { return float64(p.rss) })/(1<<20), gSlope, gMean, last.fds)
	if g := heapSlope * halfMin; g > soakHeapGrowth {
		t.Errorf("live heap grows %.2f MiB/min, %.2f MiB over the second half; bound %.0f MiB", heapSlope/(1<<20), g/(1<<20), float64(soakHeapGrowth)/(1<<20))
	}
	if g := rssSlope * halfMin; g > soakRSSGrowth {
		t.Errorf("RSS grows %.2f MiB/min, %.2f MiB over the second half; bound %.0f MiB", rssSlope/(1<<20), g/(1<<20), float64(soakRSSGrowth)/(1<<20))
	}
	if growth := gSlope * halfMin; growth > math.Max(10, soakGoroutineGrowth*gMean) {
		t.Errorf("goroutines grow by %.0f over the second half (mean %.0f), bound %.0f", growth, gMean, math.Max(10, soakGoroutineGrowth*gMean))
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		fds, g := processFDs(t), runtime.NumGoroutine()
		if fds <= baseFDs && g <= baseG+2 {
			t.Logf("after the soak: %d descriptors (baseline %d), %d goroutines (baseline %d)", fds, baseFDs, g, baseG)
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("10s after the soak: %d descriptors (baseline %d), %d goroutines (baseline %d)", fds, baseFDs, g, baseG)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// soakRSS reads the process's resident set from /proc/self/statm.
func soakRSS() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

func soakWriteProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return fmt.Errorf("heap profile %s: %w", path, err)
	}
	return f.Close()
}

func soakWriteCSV(t *testing.T, path string, pts []soakPoint) {
	f, err := os.Create(path)
	if err != nil {
		t.Error(err)
		return
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "seconds,rss_bytes,heap_bytes,goroutines,fds")
	for _, p := range pts {
		fmt.Fprintf(w, "%.0f,%d,%d,%d,%d\n", p.at.Seconds(), p.rss, p.heap, p.goroutines, p.fds)
	}
	if err := w.Flush(); err != nil {
		t.Error(err)
	}
	if err := f.Close(); err != nil {
		t.Error(err)
	}
}
