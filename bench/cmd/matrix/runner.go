package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"time"
)

// pause lets the kernel finish tearing down one run's connections before
// the next run starts.
const pause = 300 * time.Millisecond

// runner runs the measurements and owns every process it starts.
type runner struct {
	opt   options
	log   io.Writer
	bin   binaries
	tmp   string
	tick  int64
	procs []*proc // started and not yet stopped
}

// measure builds the servers, runs the CPU matrix of both variants and the
// memory probe, and returns what the report needs.
func (r *runner) measure(ctx context.Context) (*report, error) {
	o := r.opt
	if _, err := exec.LookPath("taskset"); err != nil {
		return nil, fmt.Errorf("taskset is needed to pin the server and the client: %w", err)
	}
	if n := runtime.NumCPU(); n < 2 || o.serverCPU >= n {
		return nil, fmt.Errorf("-server-cpu %d must be one of the %d CPUs this process may use, and there must be 2 or more",
			o.serverCPU, n)
	}
	var err error
	if r.tmp, err = os.MkdirTemp("", "matrix-"); err != nil {
		return nil, err
	}
	if o.bin != "" {
		r.logf("using the prebuilt pinion, gnetserve and cserve in %s", o.bin)
		if r.bin, err = prebuilt(o.bin); err != nil {
			return nil, err
		}
	} else {
		r.logf("building pinion, gnetserve and cserve from %s", o.root)
		if r.bin, err = build(o.root, r.tmp); err != nil {
			return nil, err
		}
	}
	rep := &report{opt: o, machine: describeMachine(o.root, o.out, o.plots), loadBefore: loadAverage(), cpus: runtime.NumCPU()}
	r.tick = rep.machine.clkTick
	rep.pinned, rep.wide = pinnedVariant(o, 1), wideVariant(2)
	if rep.cpu, err = r.cpuMatrix(ctx, rep.pinned, o.conns); err != nil {
		return nil, err
	}
	if len(o.wideConns) > 0 {
		wide, err := r.cpuMatrix(ctx, rep.wide, o.wideConns)
		if err != nil {
			return nil, err
		}
		rep.cpu = append(rep.cpu, wide...)
	}
	if len(o.scaleLoops) > 0 {
		scale, err := r.scaleMatrix(ctx)
		if err != nil {
			return nil, err
		}
		rep.cpu = append(rep.cpu, scale...)
	}
	if rep.mem, err = r.memProbe(ctx, rep.pinned); err != nil {
		return nil, err
	}
	rep.loadAfter = loadAverage()
	rep.took = time.Since(rep.machine.date)
	return rep, nil
}

// pinnedVariant is the server on opt's server CPU with loops loops, and
// the load generator on opt's client CPUs.
func pinnedVariant(o options, loops int) variant {
	return variant{name: "pinned", loops: loops, pinned: true, serverCPU: strconv.Itoa(o.serverCPU), clientCPUs: o.clientCPUs}
}

// wideVariant is the server with loops loops and the load generator, both
// free to run on any CPU.
func wideVariant(loops int) variant { return variant{name: "unpinned", loops: loops} }

// rotate returns xs rotated left by i: cell after cell, each server takes
// its turn at going first, so none always runs on a box just warmed (or
// disturbed) by another.
func rotate[T any](xs []T, i int) []T {
	if len(xs) == 0 {
		return nil
	}
	i %= len(xs)
	return append(slices.Clone(xs[i:]), xs[:i]...)
}

// start runs argv, pinned to the CPU list cpus (taskset -c) unless it is
// empty.
func (r *runner) start(name string, cpus string, argv ...string) (*proc, error) {
	if cpus != "" {
		argv = append([]string{"taskset", "-c", cpus}, argv...)
	}
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

// listening matches the line every server prints once it accepts.
var listening = regexp.MustCompile(`listening on (\S+) `)

// startServer starts server s speaking proto in variant v and returns it
// with the address it listens on.
func (r *runner) startServer(s, proto string, v variant) (*proc, string, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, "", err
	}
	srv, err := r.start(s+" "+proto, v.serverCPU, r.bin.serverArgv(s, proto, addr, v)...)
	if err != nil {
		return nil, "", err
	}
	line, err := srv.waitLine(15*time.Second, "listening line", func(l procLine) bool {
		return l.stdout && listening.MatchString(l.text)
	})
	if err != nil {
		return srv, "", err
	}
	return srv, listening.FindStringSubmatch(line)[1], nil
}

func (r *runner) ticks(d int64) time.Duration {
	return time.Duration(d) * time.Second / time.Duration(r.tick)
}

func (r *runner) logf(format string, args ...any) {
	fmt.Fprintf(r.log, "matrix: "+format+"\n", args...)
}

// errVerify marks a run whose load generator found a wrong response: it
// is never retried, and it fails the whole command.
type errVerify struct{ msg string }

func (e *errVerify) Error() string { return e.msg }

// retry runs a measurement, and once more should it fail for another
// reason than a wrong response: on a shared box one run can be starved or
// disturbed; two failures in a row are not luck.
func retry[T any](r *runner, run func() (T, error)) (T, error) {
	v, err := run()
	var wrong *errVerify
	if err != nil && !errors.As(err, &wrong) {
		r.logf("run failed, trying once more: %v", err)
		time.Sleep(pause)
		v, err = run()
	}
	return v, err
}
