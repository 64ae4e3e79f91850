package main

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// RSS is polled every rssPoll until three readings in a row are within
// rssTolerance KiB of each other, for at most rssSettle.
const (
	rssPoll      = 250 * time.Millisecond
	rssSettle    = 15 * time.Second
	rssTolerance = 16
)

// memRun is one memory measurement: a server's RSS with no connection and
// with conns idle ones.
type memRun struct {
	model   string
	conns   int
	rss0    int64 // KiB
	rssN    int64
	settled bool // both readings settled within rssSettle
}

func (m memRun) kibPerConn() float64 { return float64(m.rssN-m.rss0) / float64(m.conns) }

// memMatrix measures every model at every connection count opt.repeat
// times, the models interleaved.
func (r *runner) memMatrix(ctx context.Context) ([]memRun, error) {
	o := r.opt
	total := o.repeat * len(o.memConns) * len(o.models)
	var runs []memRun
	cell := 0
	for rep := range o.repeat {
		for _, n := range o.memConns {
			for _, model := range r.modelOrder(cell) {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
				run, err := retry(r, func() (memRun, error) { return r.memRun(model, n) })
				if err != nil {
					return nil, fmt.Errorf("memory run %s, %d conns: %w", model, n, err)
				}
				runs = append(runs, run)
				r.logf("[%d/%d] mem rep %d %-9s conns %5d: RSS %d → %d KiB, %.3f KiB/conn (settled %v)",
					len(runs), total, rep+1, model, n, run.rss0, run.rssN, run.kibPerConn(), run.settled)
				time.Sleep(pause)
			}
			cell++
		}
	}
	return runs, nil
}

// memRun reads a fresh server's RSS, has "pinion load -idle" open conns
// connections that each echo one message and then stay idle, and reads the
// RSS again once it stops moving.
func (r *runner) memRun(model string, conns int) (memRun, error) {
	run := memRun{model: model, conns: conns}
	srv, addr, err := r.startServer(model)
	if srv != nil {
		defer r.stop(srv)
	}
	if err != nil {
		return run, err
	}
	var ok0, okN bool
	if run.rss0, ok0, err = settleRSS(srv.pid(), rssPoll, rssSettle, rssTolerance); err != nil {
		return run, err
	}
	ld, err := r.start("pinion load -idle", r.opt.clientCPU, "load", "-idle", "-addr", addr, "-proto", "echo",
		"-conns", strconv.Itoa(conns), "-size", strconv.Itoa(r.opt.size), "-timeout", "60s")
	if err != nil {
		return run, err
	}
	defer r.stop(ld)
	ready := "ready " + strconv.Itoa(conns)
	if _, err := ld.waitLine(90*time.Second, fmt.Sprintf("%q", ready), func(l procLine) bool {
		return l.stdout && l.text == ready
	}); err != nil {
		return run, err
	}
	if run.rssN, okN, err = settleRSS(srv.pid(), rssPoll, rssSettle, rssTolerance); err != nil {
		return run, err
	}
	run.settled = ok0 && okN
	return run, nil
}
