package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// runsFile is the name of the measurements, saved beside the plots.
const runsFile = "runs.json"

// saved is what a run of the matrix measured, as written to runsFile:
// -replot reads it back and rewrites the report and its plots without
// measuring again, and anyone can analyse the runs behind the medians.
type saved struct {
	Args       []string
	Machine    savedMachine
	Options    savedOptions
	LoadAvg    [2]string // before, after
	TookS      float64
	CPU        []savedCPU
	Mem        []savedMem
	Loops      [2]int // of the pinned and the unpinned variant
	ClientCPUs string
	CPUs       int // CPUs the runner could use
}

type savedMachine struct {
	CPU     string
	Cores   int
	Kernel  string
	Go      string
	Commit  string
	Dirty   bool
	Date    time.Time
	ClkTick int64
}

type savedOptions struct {
	Repeat, MemRepeat   int
	WarmupS, DurationS  float64
	Servers, Workloads  []string
	Conns, Wide, MemCon []int
	Scale               []int
	ServerCPU           int
	Quick               bool
}

type savedCPU struct {
	Server, Work, Variant string
	Conns                 int
	Load                  loadReport
	WindowS, ServerCPUS   float64
	RSSKiB                int64
}

type savedMem struct {
	Server     string
	Conns      int
	RSS0, RSSN int64
	Settled    bool
}

func (r *report) save(path string) error {
	o, m := r.opt, r.machine
	s := saved{
		Args: o.args,
		Machine: savedMachine{CPU: m.cpu, Cores: m.cores, Kernel: m.kernel, Go: m.goVer, Commit: m.commit,
			Dirty: m.dirty, Date: m.date, ClkTick: m.clkTick},
		Options: savedOptions{Repeat: o.repeat, MemRepeat: o.memRepeat, WarmupS: o.warmup.Seconds(),
			DurationS: o.duration.Seconds(), Servers: o.servers, Workloads: workloadNames(o.workloads),
			Conns: o.conns, Wide: o.wideConns, MemCon: o.memConns, Scale: o.scaleLoops, ServerCPU: o.serverCPU, Quick: o.quick},
		LoadAvg:    [2]string{r.loadBefore, r.loadAfter},
		TookS:      r.took.Seconds(),
		Loops:      [2]int{r.pinned.loops, r.wide.loops},
		ClientCPUs: r.pinned.clientCPUs,
		CPUs:       r.cpus,
	}
	for _, c := range r.cpu {
		s.CPU = append(s.CPU, savedCPU{Server: c.server, Work: c.work, Variant: c.variant, Conns: c.conns, Load: c.load,
			WindowS: c.window.Seconds(), ServerCPUS: c.serverCPU.Seconds(), RSSKiB: c.rssKiB})
	}
	for _, mr := range r.mem {
		s.Mem = append(s.Mem, savedMem{Server: mr.server, Conns: mr.conns, RSS0: mr.rss0, RSSN: mr.rssN, Settled: mr.settled})
	}
	b, err := json.MarshalIndent(s, "", "\t")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// loadSaved reads a runsFile into a report whose output paths are opt's.
func loadSaved(path string, opt options) (*report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s saved
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	so := s.Options
	opt.args, opt.repeat, opt.memRepeat, opt.quick = s.Args, so.Repeat, so.MemRepeat, so.Quick
	opt.warmup = time.Duration(so.WarmupS * float64(time.Second))
	opt.duration = time.Duration(so.DurationS * float64(time.Second))
	opt.servers, opt.conns, opt.wideConns, opt.memConns, opt.scaleLoops = so.Servers, so.Conns, so.Wide, so.MemCon, so.Scale
	opt.serverCPU, opt.clientCPUs = so.ServerCPU, s.ClientCPUs
	opt.workloads = nil
	for _, name := range so.Workloads {
		w, ok := workloadByName(name)
		if !ok {
			return nil, fmt.Errorf("%s: unknown workload %q", path, name)
		}
		opt.workloads = append(opt.workloads, w)
	}
	sm := s.Machine
	r := &report{
		opt: opt,
		machine: machine{cpu: sm.CPU, cores: sm.Cores, kernel: sm.Kernel, goVer: sm.Go, commit: sm.Commit,
			dirty: sm.Dirty, date: sm.Date, clkTick: sm.ClkTick},
		pinned:     pinnedVariant(opt, s.Loops[0]),
		wide:       wideVariant(s.Loops[1]),
		cpus:       s.CPUs,
		loadBefore: s.LoadAvg[0],
		loadAfter:  s.LoadAvg[1],
		took:       time.Duration(s.TookS * float64(time.Second)),
	}
	if r.cpus == 0 {
		r.cpus = sm.Cores // runs saved before CPUs was recorded
	}
	for _, c := range s.CPU {
		r.cpu = append(r.cpu, cpuRun{server: c.Server, work: c.Work, variant: c.Variant, conns: c.Conns, load: c.Load,
			window:    time.Duration(c.WindowS * float64(time.Second)),
			serverCPU: time.Duration(c.ServerCPUS * float64(time.Second)), rssKiB: c.RSSKiB})
	}
	for _, m := range s.Mem {
		r.mem = append(r.mem, memRun{server: m.Server, conns: m.Conns, rss0: m.RSS0, rssN: m.RSSN, settled: m.Settled})
	}
	return r, nil
}
