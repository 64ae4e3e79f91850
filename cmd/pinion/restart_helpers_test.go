package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pinion-net/pinion/cmd/pinion/internal/load"
)

// procTree is a `pinion serve` process started by a test, and the processes
// its hot restarts start after it: they share its stdout and stderr, whose
// lines the tree collects. The pipes are plain files handed to the first
// process, so Wait returns when it exits even while its successors hold
// them. Every process seen is killed (by PID) when the test ends.
type procTree struct {
	t     *testing.T
	first *exec.Cmd

	mu    sync.Mutex
	lines []string
	pids  map[int]bool
}

// The log lines of a hot restart and a drain (serve_restart.go,
// serve_drain.go).
var (
	restartReadyRe  = regexp.MustCompile(`msg="hot restart: new process ready; draining" pid=(\d+) new_pid=(\d+) took=(\S+)`)
	restartFailedRe = regexp.MustCompile(`msg="hot restart failed; still serving" pid=(\d+) err=(.*)`)
	restartBusyRe   = regexp.MustCompile(`hot restart already in progress`)
	drainedRe       = regexp.MustCompile(`msg=drained pid=(\d+) took=(\S+) err=("[^"]*"|\S+)`)
)

// startTree runs bin serve with args and waits for its listening line,
// which must carry an admin address; it returns the tree, the server's
// and the admin's address.
func startTree(t *testing.T, bin string, args ...string) (*procTree, string, string) {
	t.Helper()
	p := &procTree{t: t, pids: map[int]bool{}}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	p.first = exec.Command(bin, append([]string{"serve", "-addr", "127.0.0.1:0", "-pin=false", "-admin", "127.0.0.1:0", "-log-level", "info"}, args...)...)
	p.first.Stdout, p.first.Stderr = outW, errW
	if err := p.first.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	outW.Close()
	errW.Close()
	p.pids[p.first.Process.Pid] = true
	var readers sync.WaitGroup
	for _, r := range []*os.File{outR, errR} {
		readers.Add(1)
		go func() {
			defer readers.Done()
			p.collect(r)
		}()
	}
	go func() { _ = p.first.Wait() }()
	t.Cleanup(func() {
		p.mu.Lock()
		pids := make([]int, 0, len(p.pids))
		for pid := range p.pids {
			pids = append(pids, pid)
		}
		p.mu.Unlock()
		for _, pid := range pids {
			if !exited(pid) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		// Every writer is gone, so the pipes end; should a stray process
		// still hold one, closing the read ends stops the readers.
		done := make(chan struct{})
		go func() { readers.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
		}
		outR.Close()
		errR.Close()
		if t.Failed() {
			t.Logf("server output:\n%s", p.output())
		}
	})
	m := p.waitLine(0, adminLine, 20*time.Second)
	return p, m[1], m[5]
}

// collect appends r's lines to the tree's, noting new PIDs.
func (p *procTree) collect(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		p.mu.Lock()
		p.lines = append(p.lines, line)
		if m := restartReadyRe.FindStringSubmatch(line); m != nil {
			pid, _ := strconv.Atoi(m[2])
			p.pids[pid] = true
		}
		p.mu.Unlock()
	}
}

// mark returns the number of lines so far, to wait for lines after it.
func (p *procTree) mark() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.lines)
}

// find returns the submatches of the first line from index from on that
// matches re, or nil.
func (p *procTree) find(from int, re *regexp.Regexp) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.lines[min(from, len(p.lines)):] {
		if m := re.FindStringSubmatch(l); m != nil {
			return m
		}
	}
	return nil
}

// waitLine waits up to d for a line from index from on that matches re.
func (p *procTree) waitLine(from int, re *regexp.Regexp, d time.Duration) []string {
	p.t.Helper()
	var m []string
	deadline := time.Now().Add(d)
	for m = p.find(from, re); m == nil; m = p.find(from, re) {
		if time.Now().After(deadline) {
			p.t.Fatalf("no line matching %s after %v\noutput:\n%s", re, d, p.output())
		}
		time.Sleep(5 * time.Millisecond)
	}
	return m
}

func (p *procTree) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

// exited reports whether process pid is gone: no longer listed, or a
// zombie (its parent exited, and no one reaps it in a container without an
// init).
func exited(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return syscall.Kill(pid, 0) != nil
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] == 'Z'
}

// restartOnce sends SIGUSR2 to pid and waits for its successor to be
// ready; it returns the new PID.
func (p *procTree) restartOnce(pid int, d time.Duration) int {
	p.t.Helper()
	from := p.mark()
	if err := syscall.Kill(pid, syscall.SIGUSR2); err != nil {
		p.t.Fatalf("SIGUSR2 to %d: %v", pid, err)
	}
	re := regexp.MustCompile(`msg="hot restart: new process ready; draining" pid=` + strconv.Itoa(pid) + ` new_pid=(\d+)`)
	m := p.waitLine(from, re, d)
	next, _ := strconv.Atoi(m[1])
	return next
}

// waitExit waits up to d for pid to exit and returns how long it took.
func waitExit(t *testing.T, pid int, d time.Duration) time.Duration {
	t.Helper()
	return waitUntil(t, d, fmt.Sprintf("process %d to exit", pid), func() bool { return exited(pid) })
}

// loadWarmup is the warm-up of the load runs the restart tests start.
const loadWarmup = 500 * time.Millisecond

// loadRun is a `pinion load -reconnect -json` process started by a test.
type loadRun struct {
	cmd            *exec.Cmd
	began          time.Time
	d              time.Duration
	stdout, stderr strings.Builder
	done           chan error
}

// startLoad runs bin load against addr for d after loadWarmup, with
// -reconnect -json and args; it is killed (by PID) when the test ends.
func startLoad(t *testing.T, bin, addr string, d time.Duration, args ...string) *loadRun {
	t.Helper()
	lr := &loadRun{d: d, done: make(chan error, 1)}
	lr.cmd = exec.Command(bin, append([]string{"load", "-addr", addr, "-warmup", loadWarmup.String(),
		"-duration", d.String(), "-reconnect", "-json"}, args...)...)
	lr.cmd.Stdout, lr.cmd.Stderr = &lr.stdout, &lr.stderr
	if err := lr.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lr.began = time.Now()
	go func() { lr.done <- lr.cmd.Wait() }()
	t.Cleanup(func() {
		if lr.cmd.ProcessState == nil {
			_ = lr.cmd.Process.Kill()
		}
	})
	return lr
}

// at returns the time i/n of the way through the measured window.
func (lr *loadRun) at(i, n int) time.Time {
	return lr.began.Add(loadWarmup + time.Duration(i)*lr.d/time.Duration(n))
}

// result waits for the run's end and returns its report. It fails the
// test on an error of any kind (connect, I/O such as a reset, timeout,
// verification), fewer than conns connections open, or no request.
func (lr *loadRun) result(t *testing.T, conns int) load.Result {
	t.Helper()
	select {
	case err := <-lr.done:
		if err != nil {
			t.Errorf("pinion load: %v\nstderr: %s", err, lr.stderr.String())
		}
	case <-time.After(lr.d + 30*time.Second):
		t.Fatal("pinion load did not end")
	}
	var r load.Result
	if err := json.Unmarshal([]byte(lr.stdout.String()), &r); err != nil {
		t.Fatalf("load report: %v\n%s\nstderr: %s", err, lr.stdout.String(), lr.stderr.String())
	}
	if r.ConnectErrors+r.IOErrors+r.Timeouts+r.VerifyErrors != 0 || r.Open != conns || r.Requests == 0 {
		t.Errorf("load errors: connect %d, io (resets) %d, timeouts %d, verify %d; open %d of %d; %d requests; first: %s",
			r.ConnectErrors, r.IOErrors, r.Timeouts, r.VerifyErrors, r.Open, conns, r.Requests, r.FirstError)
	}
	return r
}

// stop sends SIGTERM to pid, the tree's process serving now, and waits for
// its drain and exit.
func (p *procTree) stop(pid int, d time.Duration) {
	p.t.Helper()
	from := p.mark()
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		p.t.Fatal(err)
	}
	waitExit(p.t, pid, d)
	p.waitLine(from, drainedRe, time.Second)
}
