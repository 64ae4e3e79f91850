package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// What a test of `pinion serve` as a process (startServeFlags) reads of
// it, as an operator would: resident memory and descriptors from /proc,
// metrics from the admin server, the exit after SIGTERM. The /proc readers
// need Linux.

// needProc skips a test where /proc/self/status is missing.
func needProc(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skipf("reads the server's /proc entries: %v", err)
	}
}

// procStatus returns a field of the server's /proc/PID/status given in kB
// (VmRSS, VmHWM), in bytes.
func (p *serverProc) procStatus(t *testing.T, field string) int64 {
	t.Helper()
	n, err := statusField(p.cmd.Process.Pid, field)
	if err != nil {
		t.Fatalf("server status: %v", err)
	}
	return n
}

// statusField reads a field given in kB from /proc/PID/status, in bytes.
func statusField(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		v, ok := strings.CutPrefix(line, field+":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s %q: %w", field, v, err)
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// rssPeak resets the server's peak RSS to its RSS now (proc(5),
// /proc/PID/clear_refs, value 5: Linux 4.0 and later), then samples VmRSS
// every 10ms until stop is called. stop returns the highest of the samples
// and of VmHWM: the kernel's peak catches what falls between samples. If
// the kernel refuses the reset, VmHWM is the peak since the start and is
// left out.
func rssPeak(t *testing.T, p *serverProc) (stop func() int64) {
	t.Helper()
	pid := p.cmd.Process.Pid
	reset := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0) == nil
	if !reset {
		t.Log("the kernel refused to reset VmHWM; the peak is sampled only")
	}
	sampled := samplePeak(func() (int64, bool) {
		n, err := statusField(pid, "VmRSS")
		return n, err == nil
	})
	return func() int64 {
		peak := sampled()
		if reset {
			peak = max(peak, p.procStatus(t, "VmHWM"))
		}
		return peak
	}
}

// fds counts the server's open descriptors.
func (p *serverProc) fds(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", p.cmd.Process.Pid))
	if err != nil {
		t.Fatalf("server descriptors: %v", err)
	}
	return len(ents)
}

// metricsClient opens a new connection for each request, so that no idle
// connection of the test stays open in the server to be counted.
var metricsClient = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// metrics reads the server's /metrics (it needs -admin) and returns each
// family's samples summed over their labels (pinion_stalls_total over
// every loop, say).
func (p *serverProc) metrics(t *testing.T) map[string]float64 {
	t.Helper()
	resp, err := metricsClient.Get("http://" + p.admin + "/metrics")
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	if _, err := body.ReadFrom(resp.Body); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("metrics: status %d, %v", resp.StatusCode, err)
	}
	m := make(map[string]float64)
	for line := range strings.Lines(body.String()) {
		if strings.HasPrefix(line, "#") {
			continue
		}
		name, val, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok {
			continue
		}
		if i := strings.IndexByte(name, '{'); i >= 0 {
			name = name[:i]
		}
		v, err := strconv.ParseFloat(val, 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		m[name] += v
	}
	return m
}

// terminate sends SIGTERM and waits up to wait for the process to exit;
// it returns how long the exit took.
func (p *serverProc) terminate(t *testing.T, wait time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM to pid %d: %v", p.cmd.Process.Pid, err)
	}
	select {
	case <-p.exited:
	case <-time.After(wait):
		t.Fatalf("still running %v after SIGTERM\nstderr: %s", wait, &p.stderr)
	}
	return time.Since(start)
}

// mib formats a byte count in MiB.
func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
