package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// loadReport is the part of "pinion load -json" the runner reads.
type loadReport struct {
	Requests      uint64  `json:"requests"`
	RequestsPerS  float64 `json:"requests_per_s"`
	DurationS     float64 `json:"duration_s"`
	CPUS          float64 `json:"cpu_s"`
	ConnectErrors int     `json:"connect_errors"`
	IOErrors      int     `json:"io_errors"`
	Timeouts      int     `json:"timeouts"`
	VerifyErrors  int     `json:"verify_errors"`
	FirstError    string  `json:"first_error"`
	Latency       struct {
		P50 float64 `json:"p50"`
		P99 float64 `json:"p99"`
	} `json:"latency_us"`
}

// cpuRun is one CPU measurement: one model, one cell, one repetition.
type cpuRun struct {
	model     string
	conns     int
	pipeline  int
	load      loadReport
	window    time.Duration // between the two samples of the server's CPU
	serverCPU time.Duration // in the window
}

// serverUsPerReq is the server's CPU time per request, in microseconds.
func (c cpuRun) serverUsPerReq() float64 {
	return float64(c.serverCPU) / float64(time.Microsecond) / float64(c.load.Requests)
}

func (c cpuRun) clientUtil() float64 { return c.load.CPUS / c.load.DurationS }
func (c cpuRun) serverUtil() float64 { return float64(c.serverCPU) / float64(c.window) }
func (c cpuRun) errors() int         { return c.load.ConnectErrors + c.load.IOErrors + c.load.Timeouts }

// cpuSample is the server's CPU time, in clock ticks, at one moment.
type cpuSample struct {
	at     time.Time
	server int64
}

func (r *runner) sample(srv *proc) (cpuSample, error) {
	s := cpuSample{at: time.Now()}
	var err error
	if s.server, err = cpuTicks(srv.pid()); err != nil {
		return s, fmt.Errorf("server CPU: %w", err)
	}
	return s, nil
}

// cpuMatrix runs every cell of the CPU table opt.repeat times, the models
// interleaved within each cell.
func (r *runner) cpuMatrix(ctx context.Context) ([]cpuRun, error) {
	o := r.opt
	total := o.repeat * len(o.conns) * len(o.pipelines) * len(o.models)
	var runs []cpuRun
	cell := 0
	for rep := range o.repeat {
		for _, n := range o.conns {
			for _, p := range o.pipelines {
				for _, model := range r.modelOrder(cell) {
					if err := ctx.Err(); err != nil {
						return nil, err
					}
					run, err := retry(r, func() (cpuRun, error) { return r.cpuRun(model, n, p) })
					if err != nil {
						return nil, fmt.Errorf("cpu run %s, %d conns, pipeline %d: %w", model, n, p, err)
					}
					runs = append(runs, run)
					r.logf("[%d/%d] cpu rep %d %-9s conns %5d pipeline %2d: %9.0f req/s, server %.3f µs/req (%.0f%% of a core), client %.0f%%, errors %d",
						len(runs), total, rep+1, model, n, p, run.load.RequestsPerS, run.serverUsPerReq(),
						100*run.serverUtil(), 100*run.clientUtil(), run.errors())
					time.Sleep(pause)
				}
				cell++
			}
		}
	}
	return runs, nil
}

// cpuRun starts a server and a load against it, samples both processes'
// CPU time when the load says its measured window starts and ends, and
// reads the load's report.
func (r *runner) cpuRun(model string, conns, pipeline int) (cpuRun, error) {
	run := cpuRun{model: model, conns: conns, pipeline: pipeline}
	srv, addr, err := r.startServer(model)
	if srv != nil {
		defer r.stop(srv)
	}
	if err != nil {
		return run, err
	}
	o := r.opt
	const connectTimeout = 10 * time.Second
	ld, err := r.start("pinion load", o.clientCPU, "load", "-addr", addr, "-proto", "echo",
		"-conns", strconv.Itoa(conns), "-pipeline", strconv.Itoa(pipeline), "-size", strconv.Itoa(o.size),
		"-warmup", o.warmup.String(), "-duration", o.duration.String(), "-timeout", connectTimeout.String(), "-json")
	if err != nil {
		return run, err
	}
	defer r.stop(ld)
	stderrLine := func(text string) func(procLine) bool {
		return func(l procLine) bool { return !l.stdout && l.text == text }
	}
	if _, err := ld.waitLine(connectTimeout+o.warmup+15*time.Second, "start of the window", stderrLine("pinion load: measuring")); err != nil {
		return run, err
	}
	s0, err := r.sample(srv)
	if err != nil {
		return run, err
	}
	if _, err := ld.waitLine(o.duration+15*time.Second, "end of the window", stderrLine("pinion load: measured")); err != nil {
		return run, err
	}
	s1, err := r.sample(srv)
	if err != nil {
		return run, err
	}
	waitErr := ld.wait(30 * time.Second)
	if run.load, err = parseLoadReport(ld.stdoutLines()); err != nil {
		return run, fmt.Errorf("%w (exit: %v)", err, waitErr)
	}
	if run.load.VerifyErrors > 0 || run.load.Requests == 0 {
		return run, fmt.Errorf("load failed: %d requests, %d verification errors, first error %q",
			run.load.Requests, run.load.VerifyErrors, run.load.FirstError)
	}
	run.window = s1.at.Sub(s0.at)
	run.serverCPU = r.ticks(s1.server - s0.server)
	return run, nil
}

// parseLoadReport finds the JSON object among the load's stdout lines.
func parseLoadReport(lines []string) (loadReport, error) {
	var rep loadReport
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(lines[i], "{") {
			err := json.Unmarshal([]byte(lines[i]), &rep)
			return rep, err
		}
	}
	return rep, errors.New("pinion load printed no JSON report")
}
