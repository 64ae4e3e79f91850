package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// loadReport is the part of "pinion load -json" the runner reads.
type loadReport struct {
	Requests      uint64  `json:"requests"`
	RequestsPerS  float64 `json:"requests_per_s"`
	MBPerS        float64 `json:"mb_per_s"`
	DurationS     float64 `json:"duration_s"`
	CPUS          float64 `json:"cpu_s"`
	ConnectErrors int     `json:"connect_errors"`
	IOErrors      int     `json:"io_errors"`
	Timeouts      int     `json:"timeouts"`
	VerifyErrors  int     `json:"verify_errors"`
	FirstError    string  `json:"first_error"`
	Latency       struct {
		P50  float64 `json:"p50"`
		P99  float64 `json:"p99"`
		P999 float64 `json:"p999"`
		Max  float64 `json:"max"`
	} `json:"latency_us"`
}

// cpuRun is one run: one server, one workload, one connection count, one
// variant, one repetition.
type cpuRun struct {
	server    string
	work      string // workload name
	conns     int
	variant   string
	load      loadReport
	window    time.Duration // between the two samples of the server's CPU
	serverCPU time.Duration // in the window
	rssKiB    int64         // the server's VmRSS at the end of the window
}

// serverUsPerReq is the server's CPU time per request, in microseconds.
func (c cpuRun) serverUsPerReq() float64 {
	return float64(c.serverCPU) / float64(time.Microsecond) / float64(c.load.Requests)
}

func (c cpuRun) clientUtil() float64 { return c.load.CPUS / c.load.DurationS }
func (c cpuRun) serverUtil() float64 { return float64(c.serverCPU) / float64(c.window) }
func (c cpuRun) errors() int         { return c.load.ConnectErrors + c.load.IOErrors + c.load.Timeouts }

// cpuMatrix runs every workload at every connection count in variant v,
// opt.repeat times, the servers that speak the workload's protocol
// interleaved within each cell.
func (r *runner) cpuMatrix(ctx context.Context, v variant, conns []int) ([]cpuRun, error) {
	return r.cells(ctx, v, conns, r.opt.workloads, r.opt.servers)
}

// cells runs every workload of ws at every connection count in variant v
// on the servers of ss that speak its protocol, opt.repeat times, the
// servers interleaved within each cell.
func (r *runner) cells(ctx context.Context, v variant, conns []int, ws []workload, ss []string) ([]cpuRun, error) {
	o := r.opt
	type cell struct {
		w       workload
		conns   int
		servers []string
	}
	var cells []cell
	total := 0
	for _, w := range ws {
		var speak []string
		for _, s := range ss {
			if srv, _ := serverByName(s); srv.speaks(w.proto) {
				speak = append(speak, s)
			}
		}
		for _, n := range conns {
			cells = append(cells, cell{w, n, speak})
			total += o.repeat * len(speak)
		}
	}
	var runs []cpuRun
	turn := 0
	for rep := range o.repeat {
		for _, c := range cells {
			for _, s := range rotate(c.servers, turn) {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
				run, err := retry(r, func() (cpuRun, error) { return r.cpuRun(s, c.w, c.conns, v) })
				if err != nil {
					return nil, fmt.Errorf("%s run of %s, %s, %d conns: %w", v.name, s, c.w.name, c.conns, err)
				}
				runs = append(runs, run)
				r.logf("[%d/%d] %s rep %d %-9s %-12s conns %5d: %9.0f req/s, server %.3f µs/req (%.0f%% CPU), client %.0f%%, p99 %.0f µs, errors %d",
					len(runs), total, v.name, rep+1, s, c.w.name, c.conns, run.load.RequestsPerS, run.serverUsPerReq(),
					100*run.serverUtil(), 100*run.clientUtil(), run.load.Latency.P99, run.errors())
				time.Sleep(pause)
			}
			turn++
		}
	}
	return runs, nil
}

// cpuRun starts server s and a load of w against it, samples the server's
// CPU time when the load says its measured window starts and ends (and
// its RSS at the end), and reads the load's report.
func (r *runner) cpuRun(s string, w workload, conns int, v variant) (cpuRun, error) {
	run := cpuRun{server: s, work: w.name, conns: conns, variant: v.name}
	srv, addr, err := r.startServer(s, w.proto, v)
	if srv != nil {
		defer r.stop(srv)
	}
	if err != nil {
		return run, err
	}
	o := r.opt
	const connectTimeout = 10 * time.Second
	args := append([]string{r.bin.pinion}, w.loadArgs(addr, conns)...)
	args = append(args, "-warmup", o.warmup.String(), "-duration", o.duration.String(),
		"-timeout", connectTimeout.String(), "-json")
	ld, err := r.start("pinion load", v.clientCPUs, args...)
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
	t0 := time.Now()
	c0, err := cpuTicks(srv.pid())
	if err != nil {
		return run, fmt.Errorf("server CPU: %w", err)
	}
	if _, err := ld.waitLine(o.duration+15*time.Second, "end of the window", stderrLine("pinion load: measured")); err != nil {
		return run, err
	}
	t1 := time.Now()
	c1, err := cpuTicks(srv.pid())
	if err != nil {
		return run, fmt.Errorf("server CPU: %w", err)
	}
	if run.rssKiB, err = rssKiB(srv.pid()); err != nil {
		return run, fmt.Errorf("server RSS: %w", err)
	}
	waitErr := ld.wait(30 * time.Second)
	if run.load, err = parseLoadReport(ld.stdoutLines()); err != nil {
		return run, fmt.Errorf("%w (exit: %v)", err, waitErr)
	}
	if run.load.VerifyErrors > 0 {
		return run, &errVerify{fmt.Sprintf("%s answered %s wrongly: %d verification errors, first: %s",
			s, w.name, run.load.VerifyErrors, run.load.FirstError)}
	}
	if run.load.Requests == 0 {
		return run, fmt.Errorf("no request completed in the window; first error %q", run.load.FirstError)
	}
	run.window = t1.Sub(t0)
	run.serverCPU = r.ticks(c1 - c0)
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
