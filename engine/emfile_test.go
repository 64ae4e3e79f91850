package engine_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pinion-net/pinion/engine"
)

const (
	emfileEnv   = "PINION_EMFILE_CHILD"
	emfileLimit = 64  // the child's RLIMIT_NOFILE
	clockTicks  = 100 // USER_HZ: the unit of utime and stime in /proc/PID/stat
)

// TestEMFILEChild is the server half of TestEMFILE; it runs only in the
// child process. It lowers its file limit, serves echo on one loop, prints
// "addr HOST:PORT", answers "stats" lines on stdin with a "stats ..." line,
// and shuts down when stdin closes.
func TestEMFILEChild(t *testing.T) {
	if os.Getenv(emfileEnv) != "1" {
		t.Skip("the server half of TestEMFILE; runs only in its child process")
	}
	// Go raises the soft limit to the hard one at startup: lower it here.
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatalf("getrlimit: %v", err)
	}
	rl.Cur = min(emfileLimit, rl.Max)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatalf("setrlimit: %v", err)
	}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("list open files: %v", err)
	}
	if len(fds) > emfileLimit/2 {
		t.Fatalf("open files before the engine: got %d, want at most %d", len(fds), emfileLimit/2)
	}
	e, err := engine.Start(&echoHandler{}, engine.Config{
		Addrs:  []string{"127.0.0.1:0"},
		Loops:  1,
		Pin:    engine.PinOff,
		IO:     envIO(t),
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})),
	})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	fmt.Printf("addr %s\n", e.Addrs()[0])
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		if in.Text() == "stats" {
			s := e.Stats()
			fmt.Printf("stats %d %d %d\n", s.AcceptPauses, s.Conns, s.Accepted)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

// emfileChild is the parent's view of the TestEMFILEChild process.
type emfileChild struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string
	exited chan struct{}
	stderr logBuffer
}

type emfileChildStats struct{ pauses, conns, accepted uint64 }

// startEMFILEChild runs TestEMFILEChild in a new process of this test binary.
// When the test ends the child's stdin is closed and the child is waited
// for, and killed by PID if it does not exit in time.
func startEMFILEChild(t *testing.T) *emfileChild {
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("os.Executable: %v", err)
	}
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatalf("pipe: %v", err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatalf("pipe: %v", err)
	}
	ch := &emfileChild{t: t, stdin: inW, lines: make(chan string, 16), exited: make(chan struct{})}
	ch.cmd = exec.Command(exe, "-test.run=^TestEMFILEChild$", "-test.count=1", "-test.timeout=2m")
	ch.cmd.Env = append(os.Environ(), emfileEnv+"=1")
	ch.cmd.Stdin, ch.cmd.Stdout, ch.cmd.Stderr = inR, outW, &ch.stderr
	err = ch.cmd.Start()
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		t.Fatalf("start the child: %v", err)
	}
	go func() {
		_ = ch.cmd.Wait()
		close(ch.exited)
	}()
	go func() {
		defer close(ch.lines)
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			ch.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		_ = inW.Close()
		select {
		case <-ch.exited:
		case <-time.After(15 * time.Second):
			t.Errorf("the child (pid %d) did not exit after its stdin closed; killing it", ch.cmd.Process.Pid)
			_ = ch.cmd.Process.Kill()
			<-ch.exited
		}
		_ = outR.Close()
		if t.Failed() {
			t.Logf("child stderr:\n%s", ch.stderr.String())
		}
	})
	return ch
}

// line returns the next output line of the child with the given prefix,
// failing if it exits or stays silent for 10 seconds.
func (ch *emfileChild) line(prefix string) string {
	ch.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-ch.lines:
			if !ok {
				ch.t.Fatalf("the child exited before printing %q; stderr:\n%s", prefix, ch.stderr.String())
			}
			if rest, found := strings.CutPrefix(l, prefix); found {
				return rest
			}
		case <-timeout:
			ch.t.Fatalf("no %q line from the child in 10s", prefix)
		}
	}
}

func (ch *emfileChild) stats() emfileChildStats {
	ch.t.Helper()
	if _, err := io.WriteString(ch.stdin, "stats\n"); err != nil {
		ch.t.Fatalf("ask the child for stats: %v", err)
	}
	var s emfileChildStats
	l := ch.line("stats ")
	if _, err := fmt.Sscanf(l, "%d %d %d", &s.pauses, &s.conns, &s.accepted); err != nil {
		ch.t.Fatalf("parse the child's stats %q: %v", l, err)
	}
	return s
}

// cpuTicks returns the user and system CPU time of the child so far, in
// clock ticks.
func (ch *emfileChild) cpuTicks() int {
	ch.t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", ch.cmd.Process.Pid))
	if err != nil {
		ch.t.Fatalf("read the child's CPU time: %v", err)
	}
	// The command name in parentheses may hold spaces: fields are counted
	// after the last ')'. utime and stime are fields 14 and 15 of proc(5),
	// the 12th and 13th after the name.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		ch.t.Fatalf("/proc/PID/stat: got %q, want at least 15 fields", s)
	}
	utime, err1 := strconv.Atoi(f[11])
	stime, err2 := strconv.Atoi(f[12])
	if err1 != nil || err2 != nil {
		ch.t.Fatalf("/proc/PID/stat: cannot parse utime %q and stime %q", f[11], f[12])
	}
	return utime + stime
}

func (ch *emfileChild) alive() {
	ch.t.Helper()
	select {
	case <-ch.exited:
		ch.t.Fatalf("the child exited (%v); stderr:\n%s", ch.cmd.ProcessState, ch.stderr.String())
	default:
	}
}

// TestEMFILE saturates a server whose process is out of file descriptors:
// it stays up, pauses accepting instead of spinning, and accepts again once
// descriptors are free.
func TestEMFILE(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads CPU time from /proc")
	}
	const clients = 200 // far more than the child's fd limit; the backlog holds the rest
	ch := startEMFILEChild(t)
	addr := ch.line("addr ")

	conns := make([]net.Conn, 0, clients)
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	for range clients {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatalf("dial %d: %v", len(conns), err)
		}
		conns = append(conns, c)
	}

	var s emfileChildStats
	deadline := time.Now().Add(10 * time.Second)
	for s = ch.stats(); s.pauses == 0; s = ch.stats() {
		if time.Now().After(deadline) {
			t.Fatalf("AcceptPauses: got 0 after %d connections (child accepted %d), want > 0", clients, s.accepted)
		}
		ch.alive()
	}
	t.Logf("saturated: child holds %d connections, accepted %d, %d accept pauses", s.conns, s.accepted, s.pauses)
	if s.conns >= clients || s.conns >= emfileLimit {
		t.Fatalf("child connections: got %d, want fewer than its limit of %d files", s.conns, emfileLimit)
	}

	// While saturated the loop waits out its backoff (at most 500ms)
	// between attempts: a spinning loop would burn a whole CPU.
	const window = 2 * time.Second
	cpu0, before := ch.cpuTicks(), ch.stats()
	select {
	case <-ch.exited:
		t.Fatalf("the child exited while saturated; stderr:\n%s", ch.stderr.String())
	case <-time.After(window):
	}
	cpu1, after := ch.cpuTicks(), ch.stats()
	used := time.Duration(cpu1-cpu0) * time.Second / clockTicks
	t.Logf("child CPU while saturated: %v in %v (%.1f%% of one CPU); accept pauses %d -> %d",
		used, window, 100*float64(used)/float64(window), before.pauses, after.pauses)
	if used >= window/10 {
		t.Errorf("child CPU while saturated: got %v in %v, want less than 10%% of one CPU", used, window)
	}
	if after.pauses <= before.pauses {
		t.Errorf("accept pauses during the window: got %d -> %d, want the listener retried", before.pauses, after.pauses)
	}
	if n := after.pauses - before.pauses; n > 40 {
		t.Errorf("accept pauses in %v: got %d, want at most 40 (the backoff grows to 500ms)", window, n)
	}
	ch.alive()

	// Free the descriptors: a new client is served again.
	for _, c := range conns {
		_ = c.Close()
	}
	conns = conns[:0]
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial after the clients left: %v", err)
	}
	conns = append(conns, c)
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(c, "again"); err != nil {
		t.Fatalf("write: %v", err)
	}
	got := make([]byte, len("again"))
	if _, err := io.ReadFull(c, got); err != nil || string(got) != "again" {
		t.Fatalf("echo after the clients left: got %q, %v; want %q", got, err, "again")
	}
	// A busy loop's figures may lag by Config.StatsInterval: the
	// child's timers keep it ticking.
	deadline = time.Now().Add(10 * time.Second)
	final := ch.stats()
	for ; final.pauses == 0 || final.accepted <= uint64(clients); final = ch.stats() {
		if time.Now().After(deadline) {
			t.Fatalf("child stats at the end: got %d pauses and %d accepted, want > 0 and > %d", final.pauses, final.accepted, clients)
		}
		ch.alive()
	}
	ch.alive()
}
