package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestParseStatCPU(t *testing.T) {
	for _, tc := range []struct {
		stat string
		want int64
		ok   bool
	}{
		{"1234 (pinion) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 5 0 100 0 0", 325, true},
		{"1234 (a (b) c) R 1 1234 1234 0 -1 4194560 100 0 0 0 7 8 0 0 20 0 5 0 100 0 0", 15, true},
		{"1234 (pinion) S 1 2", 0, false},
		{"garbage", 0, false},
	} {
		got, err := parseStatCPU([]byte(tc.stat))
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseStatCPU(%q) = %d, %v; want %d, ok %v", tc.stat, got, err, tc.want, tc.ok)
		}
	}
}

func TestParseVmRSS(t *testing.T) {
	got, err := parseVmRSS([]byte("Name:\tpinion\nVmPeak:\t  9000 kB\nVmRSS:\t    3712 kB\nRssAnon:\t 1000 kB\n"))
	if err != nil || got != 3712 {
		t.Errorf("parseVmRSS = %d, %v; want 3712", got, err)
	}
	if _, err := parseVmRSS([]byte("Name:\tkthread\n")); err == nil {
		t.Error("parseVmRSS without a VmRSS line: no error")
	}
}

// TestProcSelf reads this process's own figures, as the runner reads the
// server's.
func TestProcSelf(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	if _, err := cpuTicks(os.Getpid()); err != nil {
		t.Errorf("cpuTicks(self): %v", err)
	}
	if kib, err := rssKiB(os.Getpid()); err != nil || kib <= 0 {
		t.Errorf("rssKiB(self) = %d, %v; want > 0", kib, err)
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		xs   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		if got := median(tc.xs); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.xs, got, tc.want)
		}
	}
}

func TestIntList(t *testing.T) {
	got, err := intList("100, 1000,10000")
	if err != nil || len(got) != 3 || got[2] != 10000 {
		t.Errorf("intList = %v, %v", got, err)
	}
	for _, bad := range []string{"", "1,,2", "0", "x"} {
		if _, err := intList(bad); err == nil {
			t.Errorf("intList(%q): no error", bad)
		}
	}
}

func TestModulePath(t *testing.T) {
	if got := modulePath([]byte("// comment\nmodule github.com/pinion-net/pinion\n\ngo 1.26\n")); got != rootModule {
		t.Errorf("modulePath = %q, want %q", got, rootModule)
	}
}

func TestDirtyIgnoresTheReport(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	root := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@localhost",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@localhost")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	write := func(name, text string) {
		t.Helper()
		path := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("code.go", "package x\n")
	write("docs/benchmarks.md", "old\n")
	write("docs/benchmarks/runs.json", "{}\n")
	git("init", "-q")
	git("add", ".")
	git("commit", "-qm", "init")
	out, plots := filepath.Join(root, "docs", "benchmarks.md"), filepath.Join(root, "docs", "benchmarks")

	write("docs/benchmarks.md", "new\n")
	if err := os.RemoveAll(plots); err != nil {
		t.Fatal(err)
	}
	if m := describeMachine(root, out, plots); m.dirty {
		t.Error("changes to the report alone made the tree dirty")
	}
	write("code.go", "package y\n")
	if m := describeMachine(root, out, plots); !m.dirty {
		t.Error("a change to code.go did not make the tree dirty")
	}
}
