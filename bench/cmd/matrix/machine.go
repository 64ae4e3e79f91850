package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// machine describes where and what was measured.
type machine struct {
	cpu     string
	cores   int
	kernel  string
	goVer   string
	commit  string
	dirty   bool
	date    time.Time
	clkTick int64
}

func describeMachine(root string, outputs ...string) machine {
	m := machine{date: time.Now().UTC(), clkTick: clockTick()}
	m.cpu, m.cores = cpuInfo()
	m.kernel = output("", "uname", "-r")
	m.goVer = output(root, "go", "env", "GOVERSION")
	m.commit = output(root, "git", "rev-parse", "HEAD")
	// Changes to the report and its plots, which the run is about to
	// rewrite, do not make the measured tree dirty.
	args := []string{"git", "status", "--porcelain", "--untracked-files=no", "--", "."}
	for _, p := range outputs {
		if rel, err := filepath.Rel(root, p); err == nil && !strings.HasPrefix(rel, "..") {
			args = append(args, ":(exclude)"+rel)
		}
	}
	m.dirty = output(root, args...) != ""
	return m
}

// cpuInfo returns the model name and the number of processors listed in
// /proc/cpuinfo.
func cpuInfo() (string, int) {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown", 0
	}
	model, n := "unknown", 0
	for line := range strings.Lines(string(b)) {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "processor":
			n++
		case "model name":
			if model == "unknown" {
				model = strings.TrimSpace(v)
			}
		}
	}
	return model, n
}

// output runs a command in dir and returns its trimmed output, or "?".
func output(dir string, argv ...string) string {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	b, err := cmd.Output()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(b))
}

// buildPinion builds cmd/pinion of the repository at root into dir,
// statically (CGO_ENABLED=0), and returns the binary's path.
func buildPinion(root, dir string) (string, error) {
	bin := filepath.Join(dir, "pinion")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/pinion")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build pinion in %s: %w\n%s", root, err, out)
	}
	return bin, nil
}
