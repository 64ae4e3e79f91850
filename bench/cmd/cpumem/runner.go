package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// pause lets the kernel finish tearing down one run's connections before
// the next run starts.
const pause = 500 * time.Millisecond

// runner runs the measurements and owns every process it starts.
type runner struct {
	opt   options
	log   io.Writer
	bin   string
	tmp   string
	tick  int64
	procs []*proc // started and not yet stopped
}

// measure builds pinion, runs the CPU and the memory matrix, and returns
// what the report needs.
func (r *runner) measure(ctx context.Context) (*report, error) {
	if _, err := exec.LookPath("taskset"); err != nil {
		return nil, fmt.Errorf("taskset is needed to pin the server and the client: %w", err)
	}
	if n := runtime.NumCPU(); r.opt.serverCPU >= n || r.opt.clientCPU >= n || r.opt.serverCPU == r.opt.clientCPU {
		return nil, fmt.Errorf("-server-cpu %d and -client-cpu %d must be two different CPUs of the %d this process may use",
			r.opt.serverCPU, r.opt.clientCPU, n)
	}
	var err error
	if r.tmp, err = os.MkdirTemp("", "cpumem-"); err != nil {
		return nil, err
	}
	fmt.Fprintf(r.log, "cpumem: building pinion from %s\n", r.opt.root)
	if r.bin, err = buildPinion(r.opt.root, r.tmp); err != nil {
		return nil, err
	}
	rep := &report{opt: r.opt, machine: describeMachine(r.opt.root), loadBefore: loadAverage()}
	r.tick = rep.machine.clkTick
	if rep.cpu, err = r.cpuMatrix(ctx); err != nil {
		return nil, err
	}
	if rep.mem, err = r.memMatrix(ctx); err != nil {
		return nil, err
	}
	rep.loadAfter = loadAverage()
	rep.took = time.Since(rep.machine.date)
	return rep, nil
}

// modelOrder alternates which model goes first from one cell to the next,
// so that neither always runs on a box just warmed (or disturbed) by the
// other.
func (r *runner) modelOrder(i int) []string {
	m := slices.Clone(r.opt.models)
	if i%2 == 1 {
		slices.Reverse(m)
	}
	return m
}

// start runs pinion with args, pinned to cpu.
func (r *runner) start(name string, cpu int, args ...string) (*proc, error) {
	argv := append([]string{"taskset", "-c", strconv.Itoa(cpu), r.bin}, args...)
	p, err := start(name, argv...)
	if err != nil {
		return nil, err
	}
	r.procs = append(r.procs, p)
	return p, nil
}

// stop stops p, one of ours, and forgets it. Having to kill it is logged:
// the run's figures stand, but the next run may be disturbed.
func (r *runner) stop(p *proc) {
	r.procs = slices.DeleteFunc(r.procs, func(q *proc) bool { return q == p })
	if err := p.stop(); err != nil {
		r.logf("%v", err)
	}
}

// stopAll stops whatever is still running, newest first, and removes the
// build directory.
func (r *runner) stopAll() {
	for len(r.procs) > 0 {
		r.stop(r.procs[len(r.procs)-1])
	}
	if r.tmp != "" {
		_ = os.RemoveAll(r.tmp)
	}
}

// startServer starts "pinion serve" of model pinned to the server CPU and
// returns it with the address it listens on.
func (r *runner) startServer(model string) (*proc, string, error) {
	srv, err := r.start("pinion serve -model "+model, r.opt.serverCPU, serverArgs(model)...)
	if err != nil {
		return nil, "", err
	}
	line, err := srv.waitLine(15*time.Second, "listening line", func(l procLine) bool {
		return l.stdout && strings.Contains(l.text, "listening on ")
	})
	if err != nil {
		return srv, "", err
	}
	_, rest, _ := strings.Cut(line, "listening on ")
	addr, _, _ := strings.Cut(rest, " ")
	return srv, addr, nil
}

// serverArgs are the arguments of "pinion serve" for model: one loop,
// pinned by taskset rather than by pinion, no connection limit below the
// open-file limit, no idle timeout.
func serverArgs(model string) []string {
	return []string{"serve", "-addr", "127.0.0.1:0", "-proto", "echo", "-model", model,
		"-loops", "1", "-pin=false", "-max-conns", "20000", "-idle-timeout", "0"}
}

func (r *runner) ticks(d int64) time.Duration {
	return time.Duration(d) * time.Second / time.Duration(r.tick)
}

func (r *runner) logf(format string, args ...any) {
	fmt.Fprintf(r.log, "cpumem: "+format+"\n", args...)
}

// retry runs a measurement, and once more should it fail: on a shared box
// one run can be starved or disturbed; two failures in a row are not luck.
func retry[T any](r *runner, run func() (T, error)) (T, error) {
	v, err := run()
	if err != nil {
		r.logf("run failed, trying once more: %v", err)
		time.Sleep(pause)
		v, err = run()
	}
	return v, err
}
