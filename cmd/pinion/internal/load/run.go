package load

import (
	"fmt"
	"io"
	"time"
)

// maxDrain is the longest a run waits after its window for the batches in
// flight; the -timeout flag shortens it.
const maxDrain = time.Second

// runLoad connects, runs the warm-up and the measured window, and collects
// what every connection measured. It returns within -timeout (connecting)
// plus -warmup, -duration and the drain, whatever the server does.
func runLoad(cfg loadConfig, stderr io.Writer) (*Result, error) {
	proto, err := newLoadProto(cfg)
	if err != nil {
		return nil, err
	}
	began := time.Now()
	dialed := dialAll(cfg, nil)
	defer dialed.closeAll()
	if dialed.open() == 0 {
		return nil, fmt.Errorf("no connection to %s: %w", cfg.addr, dialed.firstErr)
	}
	fmt.Fprintf(stderr, "pinion load: %d of %d connections open in %v; warming up for %v\n",
		dialed.open(), cfg.conns, time.Since(began).Round(time.Millisecond), cfg.warmup)

	now := time.Now()
	win := &runWindow{start: now.Add(cfg.warmup), timeout: cfg.timeout}
	win.end = win.start.Add(cfg.duration)
	win.hard = win.end.Add(min(cfg.timeout, maxDrain))
	conns := make([]*loadConn, 0, dialed.open())
	for i, c := range dialed.conns {
		if c != nil {
			conns = append(conns, newLoadConn(c, proto, i, cfg.pipeline, win))
		}
	}
	done := make(chan struct{})
	go func() {
		parallel(len(conns), len(conns), func(i int) { conns[i].run(cfg.pipeline) })
		close(done)
	}()

	time.Sleep(time.Until(win.start))
	cpu0 := processCPU()
	fmt.Fprintln(stderr, "pinion load: measuring")
	time.Sleep(time.Until(win.end))
	cpu1 := processCPU()
	fmt.Fprintln(stderr, "pinion load: measured")
	// Every read and write has a deadline no later than hard; closing the
	// connections is the backstop should one still hang on.
	select {
	case <-done:
	case <-time.After(time.Until(win.hard) + 100*time.Millisecond):
		dialed.closeAll()
		<-done
	}
	r := collect(cfg, dialed, conns)
	r.CPUS = -1
	if cpu0 >= 0 && cpu1 >= 0 {
		r.CPUS = (cpu1 - cpu0).Seconds()
	}
	return r, nil
}

// collect merges the connections' figures into the run's result.
func collect(cfg loadConfig, dialed *dialResult, conns []*loadConn) *Result {
	r := &Result{
		Proto: cfg.proto, Addr: cfg.addr, Conns: cfg.conns, Open: dialed.open(),
		Pipeline: cfg.pipeline, Size: cfg.size,
		WarmupS: cfg.warmup.Seconds(), DurationS: cfg.duration.Seconds(),
		ConnectErrors: dialed.failed,
	}
	switch cfg.proto {
	case "http":
		r.Path = cfg.path
	case "resp":
		r.Op = cfg.op
	}
	if dialed.firstErr != nil {
		r.FirstError = "connect: " + dialed.firstErr.Error()
	}
	hist := new(latencyHist)
	for _, lc := range conns {
		hist.merge(&lc.hist)
		r.Requests += lc.requests
		r.Bytes += lc.bytes
		switch kindOf(lc.err) {
		case errNone:
			continue
		case errIO:
			r.IOErrors++
		case errTimeout:
			r.Timeouts++
		case errMismatch:
			r.VerifyErrors++
		}
		// A mismatch is the error that matters most: it wins the slot, and
		// names the protocol whose check it failed.
		switch {
		case kindOf(lc.err) == errMismatch && r.VerifyErrors == 1:
			r.FirstError = cfg.proto + " " + lc.err.Error()
		case r.FirstError == "":
			r.FirstError = lc.err.Error()
		}
	}
	secs := cfg.duration.Seconds()
	r.RequestsPerS = float64(r.Requests) / secs
	r.MBPerS = float64(r.Bytes) / secs / 1e6
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	r.Latency = latencyReport{
		P50: us(hist.quantile(0.50)), P99: us(hist.quantile(0.99)), P999: us(hist.quantile(0.999)),
		Max: us(time.Duration(hist.max)), Mean: us(hist.mean()),
	}
	return r
}
