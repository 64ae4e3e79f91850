package main

import (
	"bufio"
	"bytes"
	"io"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"
)

// goTool returns the go command for the tests that build and run a
// binary, and skips the test with -short, on Windows (they signal the
// process) or without a go command on PATH.
func goTool(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs a binary")
	}
	if runtime.GOOS == "windows" {
		t.Skip("needs signals")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("go command not on PATH: %v", err)
	}
	return gobin
}

// buildPinion builds the pinion binary into a temporary directory.
func buildPinion(t *testing.T) string {
	t.Helper()
	gobin := goTool(t)
	bin := filepath.Join(t.TempDir(), "pinion")
	if out, err := exec.Command(gobin, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// proc is a process a test started. It is killed (by PID) when the test
// ends if it still runs.
type proc struct {
	cmd    *exec.Cmd
	stderr lockedBuffer  // written by the process while the test may read it
	lines  chan string   // the first line of stdout; closed without one if none comes
	exited chan struct{} // closed once the process is gone
	err    error         // Wait's, once exited is closed
}

// startProc starts bin with args.
func startProc(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(bin, args...), lines: make(chan string, 1), exited: make(chan struct{})}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stderr = &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
		_, _ = io.Copy(io.Discard, stdout) // Wait closes the pipe only after this
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

// firstLine returns the first line the process prints, failing when none
// comes within d.
func (p *proc) firstLine(t *testing.T, d time.Duration) string {
	t.Helper()
	select {
	case line, ok := <-p.lines:
		if !ok {
			t.Fatalf("%s printed nothing on stdout\nstderr: %s", p.cmd.Path, &p.stderr)
		}
		return line
	case <-time.After(d):
		t.Fatalf("%s printed no line within %v", p.cmd.Path, d)
	}
	return ""
}

// exitsCleanly fails unless the process exits with status 0 within d.
func (p *proc) exitsCleanly(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case <-p.exited:
		if p.err != nil {
			t.Fatalf("%s exited with %v, want status 0\nstderr: %s", p.cmd.Path, p.err, &p.stderr)
		}
	case <-time.After(d):
		t.Fatalf("%s still running after %v\nstderr: %s", p.cmd.Path, d, &p.stderr)
	}
}

// lockedBuffer is a bytes.Buffer that a process or a logger writes while
// a test may read it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
