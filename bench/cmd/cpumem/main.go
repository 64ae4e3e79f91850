// Command cpumem measures pinion's server CPU per request and memory per
// idle connection, for the event-loop model against the goroutine-per-
// connection baseline, and writes the report docs/benchmarks.md.
//
// It builds pinion from the repository, then for each run starts
// "pinion serve" pinned to one CPU and "pinion load" pinned to another
// (taskset), samples both processes' CPU time from /proc at the moments the
// load starts and ends its measured window, and reads the server's VmRSS
// with idle connections held by "pinion load -idle". Models are interleaved
// within each cell and every cell is repeated; the report gives medians.
//
//	cd bench && go run ./cmd/cpumem                # the full matrix, minutes
//	cd bench && go run ./cmd/cpumem -quick -out /tmp/x.md   # a smoke test
//
// It only ever signals the processes it started, by their PIDs.
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
	"strconv"
	"strings"
	"syscall"
	"time"
)

// options are what the flags say.
type options struct {
	root      string
	out       string
	repeat    int
	warmup    time.Duration
	duration  time.Duration
	models    []string
	conns     []int
	pipelines []int
	memConns  []int
	size      int
	serverCPU int
	clientCPU int
	quick     bool
	args      []string // the command line, for the report
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
		fmt.Fprintf(stderr, "cpumem: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	r := &runner{opt: opt, log: stderr}
	defer r.stopAll()
	rep, err := r.measure(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "cpumem: %v\n", err)
		return 1
	}
	if err := writeReport(opt.out, rep); err != nil {
		fmt.Fprintf(stderr, "cpumem: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s\n", opt.out)
	for _, t := range rep.targets() {
		fmt.Fprintf(stdout, "%s: %s\n", t.verdict(), t.what)
	}
	return 0
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	opt := options{args: args}
	var models, conns, pipelines, memConns string
	fs := flag.NewFlagSet("cpumem", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&opt.root, "root", "", "repository root (default: found from the working directory)")
	fs.StringVar(&opt.out, "out", "", "report to write (default: ROOT/docs/benchmarks.md)")
	fs.IntVar(&opt.repeat, "repeat", 3, "runs of every cell; the report gives medians")
	fs.DurationVar(&opt.warmup, "warmup", time.Second, "load warm-up before each measured window")
	fs.DurationVar(&opt.duration, "duration", 5*time.Second, "measured window of each CPU run")
	fs.StringVar(&models, "models", "loop,goroutine", "server models")
	fs.StringVar(&conns, "conns", "100,1000,10000", "connections of the CPU table")
	fs.StringVar(&pipelines, "pipelines", "1,16", "requests in flight per connection, CPU table")
	fs.StringVar(&memConns, "mem-conns", "1000,10000", "idle connections of the memory table")
	fs.IntVar(&opt.size, "size", 64, "request size in bytes")
	fs.IntVar(&opt.serverCPU, "server-cpu", 0, "CPU the server is pinned to")
	fs.IntVar(&opt.clientCPU, "client-cpu", 1, "CPU the load generator is pinned to")
	fs.BoolVar(&opt.quick, "quick", false, "smoke test: 1 run of 1s per cell, 100 connections, 1000 idle ones")
	if err := fs.Parse(args); err != nil {
		return opt, err
	}
	if fs.NArg() > 0 {
		return opt, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if opt.quick {
		opt.repeat, opt.duration, conns, memConns = 1, time.Second, "100", "1000"
	}
	var err error
	if opt.conns, err = intList(conns); err != nil {
		return opt, fmt.Errorf("-conns: %w", err)
	}
	if opt.pipelines, err = intList(pipelines); err != nil {
		return opt, fmt.Errorf("-pipelines: %w", err)
	}
	if opt.memConns, err = intList(memConns); err != nil {
		return opt, fmt.Errorf("-mem-conns: %w", err)
	}
	opt.models = strings.Split(models, ",")
	for _, m := range opt.models {
		if m != "loop" && m != "goroutine" {
			return opt, fmt.Errorf("-models: unknown model %q", m)
		}
	}
	if opt.repeat < 1 || opt.duration <= 0 || opt.warmup < 0 || opt.size < 1 {
		return opt, errors.New("-repeat, -duration and -size must be positive, -warmup not negative")
	}
	if opt.root == "" {
		if opt.root, err = findRoot(); err != nil {
			return opt, err
		}
	}
	if opt.out == "" {
		opt.out = filepath.Join(opt.root, "docs", "benchmarks.md")
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
