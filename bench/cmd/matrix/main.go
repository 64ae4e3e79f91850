// Command matrix is pinion's benchmark runner: it measures pinion's
// event-loop model against the goroutine-per-connection baseline on the
// net package, gnet and a minimal C epoll server, and writes the report
// docs/benchmarks.md with its plots.
//
// It builds every server from source (pinion and the gnet peer with go
// build, the C reference with the system C compiler), then for each run
// starts one server and "pinion load" against it, samples the server's CPU
// time and RSS from /proc at the moments the load starts and ends its
// measured window, and takes the load's own report (requests, latency, its
// CPU time, verification). Servers are interleaved within each cell, every
// cell is repeated, and the report gives medians. A memory probe holds
// idle connections that have each exchanged one message and reads each
// server's RSS.
//
//	cd bench && go run ./cmd/matrix                        # the full matrix, about 15 minutes
//	cd bench && go run ./cmd/matrix -quick -out /tmp/b.md  # the harness end to end, about 1 minute
//
// Any verification error in any run fails the whole command: a figure from
// a server that answered wrongly is no figure. It only ever signals the
// processes it started, by their PIDs.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// options are what the flags say.
type options struct {
	root       string
	out        string // the report
	plots      string // directory of the plots
	repeat     int
	memRepeat  int
	warmup     time.Duration
	duration   time.Duration
	servers    []string
	workloads  []workload
	conns      []int
	wideConns  []int // connection counts of the unpinned two-loop variant
	memConns   []int // idle connections of the memory probe, ascending
	scaleLoops []int // loop counts of the scaling table
	serverCPU  int
	clientCPUs string
	quick      bool
	bin        string   // prebuilt pinion, gnetserve and cserve; "": build them
	replot     string   // a runsFile to rewrite the report from, instead of measuring
	args       []string // the command line, for the report
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	opt, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "matrix: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	var rep *report
	if opt.replot != "" {
		rep, err = loadSaved(opt.replot, opt)
	} else {
		r := &runner{opt: opt, log: stderr}
		defer r.stopAll()
		if rep, err = r.measure(ctx); err == nil {
			err = rep.save(filepath.Join(opt.plots, runsFile))
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "matrix: %v\n", err)
		return 1
	}
	if err := writeReport(rep); err != nil {
		fmt.Fprintf(stderr, "matrix: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s and its plots in %s\n", opt.out, opt.plots)
	for _, g := range rep.goals() {
		fmt.Fprintf(stdout, "%s: %s\n", g.verdict(), g.what)
	}
	return 0
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	opt := options{args: args}
	var servers, workloads, conns, wide, memConns, scale string
	fs := flag.NewFlagSet("matrix", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&opt.root, "root", "", "repository root (default: found from the working directory)")
	fs.StringVar(&opt.out, "out", "", "report to write (default: ROOT/docs/benchmarks.md)")
	fs.StringVar(&opt.plots, "plots", "", "directory of the plots (default: benchmarks/ beside the report)")
	fs.IntVar(&opt.repeat, "repeat", 3, "runs of every cell; the report gives medians")
	fs.IntVar(&opt.memRepeat, "mem-repeat", 3, "runs of the memory probe per server")
	fs.DurationVar(&opt.warmup, "warmup", 500*time.Millisecond, "load warm-up before each measured window")
	fs.DurationVar(&opt.duration, "duration", 1500*time.Millisecond, "measured window of each run")
	fs.StringVar(&servers, "servers", strings.Join(serverNames(), ","), "servers to measure")
	fs.StringVar(&workloads, "workloads", strings.Join(workloadNames(allWorkloads), ","), "workloads to run")
	fs.StringVar(&conns, "conns", "100,1000,10000", "connection counts of the pinned matrix")
	fs.StringVar(&wide, "wide-conns", "1000", "connection counts of the unpinned two-loop variant (\"none\": skip it)")
	fs.StringVar(&memConns, "mem-conns", "1000,10000,18000", "idle connections of the memory probe (\"none\": skip it)")
	fs.StringVar(&scale, "scale-loops", "auto", "loop counts of the scaling table, pinion and gnet (\"auto\": those of 1,2,4,8,16 that leave the load generator as many CPUs; none below 4 CPUs; \"none\": skip it)")
	fs.IntVar(&opt.serverCPU, "server-cpu", 0, "CPU the server is pinned to")
	fs.StringVar(&opt.clientCPUs, "client-cpus", "1", "CPUs the load generator is pinned to (a taskset list: 1, 1-3, 4,6)")
	fs.StringVar(&opt.bin, "bin", "", "directory holding prebuilt pinion, gnetserve and cserve (static builds for a machine without Go or a C compiler: bench/device-scaling.sh); default: build them")
	fs.StringVar(&opt.replot, "replot", "", "rewrite the report and its plots from this "+runsFile+" instead of measuring")
	fs.BoolVar(&opt.quick, "quick", false, "the harness end to end in about a minute: one short run per cell, 100 connections, 1,000 idle ones")
	if err := fs.Parse(args); err != nil {
		return opt, err
	}
	if fs.NArg() > 0 {
		return opt, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if opt.quick {
		opt.repeat, opt.memRepeat = 1, 1
		opt.warmup, opt.duration = 200*time.Millisecond, 500*time.Millisecond
		conns, wide, memConns = "100", "100", "1000"
	}
	var err error
	if opt.conns, err = intList(conns); err != nil {
		return opt, fmt.Errorf("-conns: %w", err)
	}
	if wide != "none" {
		if opt.wideConns, err = intList(wide); err != nil {
			return opt, fmt.Errorf("-wide-conns: %w", err)
		}
	}
	switch scale {
	case "none":
	case "auto":
		if !opt.quick {
			opt.scaleLoops = autoScaleLoops(runtime.NumCPU())
		}
	default:
		if opt.scaleLoops, err = intList(scale); err != nil {
			return opt, fmt.Errorf("-scale-loops: %w", err)
		}
	}
	if memConns != "none" {
		if opt.memConns, err = intList(memConns); err != nil {
			return opt, fmt.Errorf("-mem-conns: %w", err)
		}
	}
	if !slices.IsSorted(opt.memConns) {
		return opt, errors.New("-mem-conns: the counts must ascend (the probe adds connections)")
	}
	opt.servers = strings.Split(servers, ",")
	for _, s := range opt.servers {
		if _, ok := serverByName(s); !ok {
			return opt, fmt.Errorf("-servers: unknown server %q (known: %s)", s, strings.Join(serverNames(), ", "))
		}
	}
	for name := range strings.SplitSeq(workloads, ",") {
		w, ok := workloadByName(name)
		if !ok {
			return opt, fmt.Errorf("-workloads: unknown workload %q (known: %s)", name, strings.Join(workloadNames(allWorkloads), ", "))
		}
		opt.workloads = append(opt.workloads, w)
	}
	if opt.repeat < 1 || opt.memRepeat < 1 || opt.duration <= 0 || opt.warmup < 0 {
		return opt, errors.New("-repeat, -mem-repeat and -duration must be positive, -warmup not negative")
	}
	if opt.root == "" {
		if opt.root, err = findRoot(); err != nil {
			return opt, err
		}
	}
	if opt.out == "" {
		opt.out = filepath.Join(opt.root, "docs", "benchmarks.md")
	}
	if opt.plots == "" {
		opt.plots = filepath.Join(filepath.Dir(opt.out), "benchmarks")
	}
	return opt, nil
}

func intList(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive number", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// rootModule is the module whose go.mod marks the repository root.
const rootModule = "github.com/pinion-net/pinion"

// findRoot walks up from the working directory to the directory whose
// go.mod declares rootModule.
func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && modulePath(b) == rootModule {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod of %s above the working directory; use -root", rootModule)
		}
		dir = parent
	}
}

func modulePath(gomod []byte) string {
	for line := range strings.Lines(string(gomod)) {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}
