package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// stopGrace is how long a process gets to exit after SIGINT before SIGKILL.
const stopGrace = 10 * time.Second

// A proc is a child process whose output lines are collected as they come.
type proc struct {
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser // open while the process should keep running (idle load)

	mu    sync.Mutex
	lines []procLine
	more  chan struct{} // capacity 1: a line arrived, or the process ended
	done  chan struct{} // closed once the process has exited and been waited for
	err   error         // Wait's error; set before done closes
}

type procLine struct {
	stdout bool
	text   string
}

// start runs argv with stdin a pipe, collecting stdout and stderr. The
// child is killed should this process die first (PR_SET_PDEATHSIG).
func start(name string, argv ...string) (*proc, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, stdin: stdin, more: make(chan struct{}, 1), done: make(chan struct{})}
	var readers sync.WaitGroup
	readers.Go(func() { p.collect(stdout, true) })
	readers.Go(func() { p.collect(stderr, false) })
	go func() {
		// Wait closes the pipes, so it must come after the readers hit EOF.
		readers.Wait()
		p.err = cmd.Wait()
		close(p.done)
		p.notify()
	}()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) collect(r io.Reader, stdout bool) {
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 64<<10), 4<<20)
	for s.Scan() {
		p.mu.Lock()
		p.lines = append(p.lines, procLine{stdout: stdout, text: s.Text()})
		p.mu.Unlock()
		p.notify()
	}
	// A line too long for the scanner ends it: keep draining, so that the
	// child never blocks writing to a pipe nobody reads.
	_, _ = io.Copy(io.Discard, r)
}

func (p *proc) notify() {
	select {
	case p.more <- struct{}{}:
	default:
	}
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitLine waits up to timeout for a line that match accepts, and returns
// it; the process exiting first, or the timeout, is an error.
func (p *proc) waitLine(timeout time.Duration, what string, match func(procLine) bool) (string, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for seen := 0; ; {
		exited := p.exited() // before the lines: an exited process has no more to come
		p.mu.Lock()
		lines := p.lines[seen:]
		seen = len(p.lines)
		p.mu.Unlock()
		for _, l := range lines {
			if match(l) {
				return l.text, nil
			}
		}
		if exited {
			return "", fmt.Errorf("%s exited (%v) before %s; it said:\n%s", p.name, p.err, what, p.transcript())
		}
		select {
		case <-p.more:
		case <-deadline.C:
			return "", fmt.Errorf("%s: no %s within %v; it said:\n%s", p.name, what, timeout, p.transcript())
		}
	}
}

// stdoutLines returns what the process wrote to stdout so far.
func (p *proc) stdoutLines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, l := range p.lines {
		if l.stdout {
			out = append(out, l.text)
		}
	}
	return out
}

func (p *proc) transcript() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b strings.Builder
	for _, l := range p.lines[max(len(p.lines)-20, 0):] {
		b.WriteString("  | " + l.text + "\n")
	}
	return b.String()
}

// wait waits up to timeout for the process to exit on its own.
func (p *proc) wait(timeout time.Duration) error {
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		return fmt.Errorf("%s did not exit within %v", p.name, timeout)
	}
}

// stop ends the process: its stdin closes and it gets SIGINT, then SIGKILL
// after stopGrace. It returns once the process has been waited for, with
// an error only when it had to be killed.
func (p *proc) stop() error {
	_ = p.stdin.Close()
	if p.exited() {
		return nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.done:
		return nil
	case <-time.After(stopGrace):
	}
	_ = p.cmd.Process.Kill()
	<-p.done
	return errors.New(p.name + " ignored SIGINT and was killed")
}
