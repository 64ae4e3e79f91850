package main

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// RSS is polled every rssPoll until three readings in a row each differ
// from the one before by at most rssTolerance KiB, for at most rssSettle
// (a slow creep therefore counts as settled).
const (
	rssPoll      = 200 * time.Millisecond
	rssSettle    = 10 * time.Second
	rssTolerance = 16
)

// memSize is the message each idle connection exchanges before it idles.
const memSize = 64

// memRun is one reading of the memory probe: a server's RSS fresh and with
// conns idle connections.
type memRun struct {
	server  string
	conns   int
	rss0    int64 // KiB, the fresh server
	rssN    int64 // KiB, with the connections
	settled bool  // both readings settled within rssSettle
}

func (m memRun) kibPerConn() float64 { return float64(m.rssN-m.rss0) / float64(m.conns) }

// memProbe measures every echo server opt.memRepeat times, the servers
// interleaved. Each time it starts a fresh server, reads its RSS, and
// then adds idle connections up to each count of opt.memConns in turn,
// reading the RSS at each.
func (r *runner) memProbe(ctx context.Context, v variant) ([]memRun, error) {
	o := r.opt
	var ss []string
	for _, s := range o.servers {
		if srv, _ := serverByName(s); srv.speaks("echo") {
			ss = append(ss, s)
		}
	}
	var runs []memRun
	for rep := range o.memRepeat {
		for _, s := range rotate(ss, rep) {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			got, err := retry(r, func() ([]memRun, error) { return r.memRamp(s, v) })
			if err != nil {
				return nil, fmt.Errorf("memory probe of %s: %w", s, err)
			}
			for _, m := range got {
				r.logf("mem rep %d %-9s conns %5d: RSS %d → %d KiB, %.3f KiB/conn (settled %v)",
					rep+1, s, m.conns, m.rss0, m.rssN, m.kibPerConn(), m.settled)
			}
			runs = append(runs, got...)
			time.Sleep(pause)
		}
	}
	return runs, nil
}

// memRamp is one pass of the memory probe over server s.
func (r *runner) memRamp(s string, v variant) ([]memRun, error) {
	srv, addr, err := r.startServer(s, "echo", v)
	if srv != nil {
		defer r.stop(srv)
	}
	if err != nil {
		return nil, err
	}
	rss0, ok0, err := settleRSS(srv.pid(), rssPoll, rssSettle, rssTolerance)
	if err != nil {
		return nil, err
	}
	var runs []memRun
	held := 0
	for _, n := range r.opt.memConns {
		add := n - held
		ld, err := r.start("pinion load -idle", v.clientCPUs, r.bin.pinion, "load", "-idle", "-addr", addr,
			"-proto", "echo", "-conns", strconv.Itoa(add), "-size", strconv.Itoa(memSize), "-timeout", "60s")
		if err != nil {
			return nil, err
		}
		// The holders stay until the server stops: stopAll or the deferred
		// stops, newest first, end them.
		defer r.stop(ld)
		ready := "ready " + strconv.Itoa(add)
		if _, err := ld.waitLine(90*time.Second, fmt.Sprintf("%q", ready), func(l procLine) bool {
			return l.stdout && l.text == ready
		}); err != nil {
			return nil, err
		}
		held = n
		rssN, okN, err := settleRSS(srv.pid(), rssPoll, rssSettle, rssTolerance)
		if err != nil {
			return nil, err
		}
		runs = append(runs, memRun{server: s, conns: n, rss0: rss0, rssN: rssN, settled: ok0 && okN})
	}
	return runs, nil
}
