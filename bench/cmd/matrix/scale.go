package main

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strconv"
)

// The scaling table: how throughput and CPU per request change as a server
// gets more loops and cores, for pinion and gnet, where the machine has the
// cores for it.
var (
	scaleCounts    = []int{1, 2, 4, 8, 16} // loops tried by -scale-loops auto
	scaleServers   = []string{"loop", "pinion-uring", "gnet"}
	scaleConns     = 1000
	scaleWorkloads = []string{"echo64-p16", "http-p1"}
)

// autoScaleLoops are the loop counts of scaleCounts that leave the load
// generator at least as many CPUs as the server, on a machine of cpus
// CPUs; none below 4 CPUs, where the pinned matrix says it all.
func autoScaleLoops(cpus int) []int {
	if cpus < 4 {
		return nil
	}
	var out []int
	for _, n := range scaleCounts {
		if 2*n <= cpus {
			out = append(out, n)
		}
	}
	return out
}

// scaleVariant is the server with loops loops on CPUs 0 to loops−1 and the
// load generator on the other CPUs of a machine of cpus CPUs.
func scaleVariant(loops, cpus int) variant {
	return variant{name: "scale-" + strconv.Itoa(loops), loops: loops, pinned: true,
		serverCPU: cpuRange(0, loops-1), clientCPUs: cpuRange(loops, cpus-1)}
}

// cpuRange is the taskset list of CPUs lo to hi.
func cpuRange(lo, hi int) string {
	if lo == hi {
		return strconv.Itoa(lo)
	}
	return fmt.Sprintf("%d-%d", lo, hi)
}

// scaleMatrix runs the scaling workloads at every loop count of
// opt.scaleLoops.
func (r *runner) scaleMatrix(ctx context.Context) ([]cpuRun, error) {
	cpus := runtime.NumCPU()
	var ws []workload
	for _, name := range scaleWorkloads {
		w, _ := workloadByName(name)
		ws = append(ws, w)
	}
	var ss []string
	for _, s := range scaleServers {
		if slices.Contains(r.opt.servers, s) {
			ss = append(ss, s)
		}
	}
	var runs []cpuRun
	for _, n := range r.opt.scaleLoops {
		if n >= cpus {
			return nil, fmt.Errorf("-scale-loops: %d loops leave no CPU of %d for the load generator", n, cpus)
		}
		got, err := r.cells(ctx, scaleVariant(n, cpus), []int{scaleConns}, ws, ss)
		if err != nil {
			return nil, err
		}
		runs = append(runs, got...)
	}
	return runs, nil
}

// scaleTable renders the scaling runs, if any.
func (r *report) scaleTable(w func(string, ...any)) {
	w("## Scaling\n\n")
	if len(r.opt.scaleLoops) == 0 {
		w("Not measured: the runner could use %d CPUs, and a scaling table needs at least 4, so that the\n", r.cpus)
		w("load generator gets as many as the server (`-scale-loops`; by default 1, 2, 4, 8 and 16 loops as\n")
		w("the machine allows). `bench/device-scaling.sh` runs it on a larger machine that has no Go\n")
		w("toolchain, from static binaries built here.\n\n")
		return
	}
	w("%d connections; the server with N loops pinned to CPUs 0 to N−1, the load generator on the\n", scaleConns)
	w("other %d − N CPUs the runner could use. Median of %d run(s). *cores* is the server's CPU time over\n", r.cpus, r.opt.repeat)
	w("the window in cores, *client CPU* the load generator's, where 100%% is one core; throughput\n")
	w("marked † was limited by the load generator (its CPU at %.0f%% or more of its cores).\n\n", 100*clientBoundUtil)
	for _, name := range scaleWorkloads {
		wl, _ := workloadByName(name)
		w("### %s, scaling\n\n", wl.title)
		w("| loops | server CPUs | client CPUs | server | req/s | cores | server µs/req | client CPU |\n")
		w("|---:|---|---|---|---:|---:|---:|---:|\n")
		for _, n := range r.opt.scaleLoops {
			v := scaleVariant(n, r.cpus)
			for _, s := range scaleServers {
				st, ok := r.cpuStat(v.name, name, scaleConns, s)
				if !ok {
					continue
				}
				rate := fmt.Sprintf("%.0f", st.reqPerS)
				if st.clientUtil >= clientBoundUtil*float64(r.cpus-n) {
					rate += " †"
				}
				w("| %d | %s | %s | %s | %s | %.2f | %s | %.0f%% |\n", n, v.serverCPU, v.clientCPUs, s, rate,
					st.serverUtil, perReq(st), 100*st.clientUtil)
			}
		}
		w("\n")
	}
}
