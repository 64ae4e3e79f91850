package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// defaultClockTick is USER_HZ on every Linux architecture we run on; it is
// used when getconf cannot tell.
const defaultClockTick = 100

// clockTick returns the unit of the CPU times in /proc/PID/stat, in ticks
// per second, as sysconf(_SC_CLK_TCK) reports it.
func clockTick() int64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err != nil {
		return defaultClockTick
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	if err != nil || n <= 0 {
		return defaultClockTick
	}
	return n
}

// cpuTicks returns the user plus system CPU time of every thread of a
// process, in clock ticks: fields 14 and 15 of /proc/PID/stat (proc(5)).
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(b)
}

// parseStatCPU reads utime+stime from the contents of /proc/PID/stat. The
// command name (field 2) is in parentheses and may hold spaces and
// parentheses itself, so fields are counted from the last ')'.
func parseStatCPU(b []byte) (int64, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("stat %q: no command name", b)
	}
	f := strings.Fields(string(b[i+1:])) // f[0] is field 3
	const utime, stime = 14 - 3, 15 - 3
	if len(f) <= stime {
		return 0, fmt.Errorf("stat: %d fields after the name, want more than %d", len(f), stime)
	}
	u, err := strconv.ParseInt(f[utime], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("stat utime: %w", err)
	}
	s, err := strconv.ParseInt(f[stime], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("stat stime: %w", err)
	}
	return u + s, nil
}

// rssKiB returns VmRSS of a process in KiB, from /proc/PID/status.
func rssKiB(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	return parseVmRSS(b)
}

func parseVmRSS(b []byte) (int64, error) {
	for line := range strings.Lines(string(b)) {
		rest, ok := strings.CutPrefix(line, "VmRSS:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("status: odd VmRSS line %q", line)
		}
		return strconv.ParseInt(f[0], 10, 64)
	}
	return 0, fmt.Errorf("status: no VmRSS line")
}

// settleRSS polls a process's RSS every interval until it has changed by
// at most tolerance KiB over three polls in a row, or limit passes, and
// returns the last reading and whether it settled.
func settleRSS(pid int, interval, limit time.Duration, tolerance int64) (int64, bool, error) {
	prev, err := rssKiB(pid)
	if err != nil {
		return 0, false, err
	}
	steady := 0
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); {
		time.Sleep(interval)
		cur, err := rssKiB(pid)
		if err != nil {
			return 0, false, err
		}
		if abs(cur-prev) <= tolerance {
			steady++
		} else {
			steady = 0
		}
		prev = cur
		if steady == 3 {
			return cur, true, nil
		}
	}
	return prev, false, nil
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// loadAverage returns the first three fields of /proc/loadavg, or "?".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
