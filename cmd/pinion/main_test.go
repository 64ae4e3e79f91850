package main

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

// cliRun runs the command line in-process and returns its exit status and
// output.
func cliRun(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

// TestRunExitStatus checks the exit status and the message of command
// lines that stop before serving anything.
func TestRunExitStatus(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		code       int
		wantStdout string // substring; "" checks nothing
		wantStderr string
	}{
		{"no command", nil, 2, "", "usage:"},
		{"unknown command", []string{"frob"}, 2, "", `pinion: unknown command "frob"`},
		{"-h", []string{"-h"}, 0, "usage:", ""},
		{"help", []string{"help"}, 0, "usage:", ""},
		{"serve -h", []string{"serve", "-h"}, 0, "", "-model"},
		{"bogus model", []string{"serve", "-model", "bogus"}, 2, "", `pinion serve: unknown model "bogus" (want loop or goroutine)`},
		{"bogus protocol", []string{"serve", "-proto", "gopher"}, 2, "", `pinion serve: unknown protocol "gopher"`},
		{"no loops", []string{"serve", "-loops", "0"}, 2, "", "pinion serve: -loops must be at least 1, got 0"},
		{"tiny read buffer", []string{"serve", "-read-buffer", "100"}, 2, "", "pinion serve: -read-buffer must be at least 512, got 100"},
		{"no free I/O states", []string{"serve", "-max-free-ios", "0"}, 2, "", "pinion serve: -max-free-ios must be at least 1, got 0"},
		{"ring release too soon", []string{"serve", "-ring-release-after", "10us"}, 2, "", "pinion serve: -ring-release-after must be at least 1ms (negative: never), got 10µs"},
		{"stray argument", []string{"serve", "now"}, 2, "", "pinion serve: unexpected arguments: [now]"},
		{"unknown flag", []string{"serve", "-nope"}, 2, "", "flag provided but not defined: -nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := cliRun(tt.args...)
			if code != tt.code {
				t.Errorf("run(%q) = %d; want %d\nstdout: %s\nstderr: %s", tt.args, code, tt.code, stdout, stderr)
			}
			if !strings.Contains(stdout, tt.wantStdout) {
				t.Errorf("run(%q) stdout = %q; want it to contain %q", tt.args, stdout, tt.wantStdout)
			}
			if !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("run(%q) stderr = %q; want it to contain %q", tt.args, stderr, tt.wantStderr)
			}
		})
	}
}

// TestParseServe checks the defaults of the serve flags and that each flag
// lands in its field.
func TestParseServe(t *testing.T) {
	def, err := parseServe(nil, io.Discard)
	if err != nil {
		t.Fatalf("parseServe(nil): %v", err)
	}
	set, err := parseServe([]string{
		"-addr", "tcp6://[::1]:7000", "-proto", "echo", "-model", "goroutine", "-loops", "3",
		"-pin=false", "-lb", "leastconn", "-max-conns", "-1", "-idle-timeout", "0", "-read-buffer", "4096",
		"-linger", "0", "-max-free-ios", "16", "-ring-release-after", "-1s",
	}, io.Discard)
	if err != nil {
		t.Fatalf("parseServe(all flags): %v", err)
	}
	tests := []struct {
		field     string
		got, want any
	}{
		{"default addr", def.addr, "127.0.0.1:9000"},
		{"default proto", def.proto, "echo"},
		{"default model", def.model, "loop"},
		{"default loops", def.loops, runtime.GOMAXPROCS(0)},
		{"default pin", def.pin, true},
		{"default lb", def.lb, "reuseport"},
		{"default maxConns", def.maxConns, 10000},
		{"default idleTimeout", def.idleTimeout, 2 * time.Minute},
		{"default readBuf", def.readBuf, 64 << 10},
		{"default maxFreeIOs", def.maxFreeIOs, 1024},
		{"default ringRelease", def.ringRelease, 100 * time.Millisecond},
		{"default linger", def.lingerTimeout(), 2 * time.Second},
		{"addr", set.addr, "tcp6://[::1]:7000"},
		{"model", set.model, "goroutine"},
		{"loops", set.loops, 3},
		{"pin", set.pin, false},
		{"lb", set.lb, "leastconn"},
		{"maxConns", set.maxConns, -1},
		{"idleTimeout", set.idleTimeout, time.Duration(0)},
		{"readBuf", set.readBuf, 4096},
		{"maxFreeIOs", set.maxFreeIOs, 16},
		{"ringRelease", set.ringRelease, -time.Second},
		{"linger 0: none", set.lingerTimeout() < 0, true},
		{"zero serveConfig lingers", serveConfig{}.lingerTimeout(), 2 * time.Second},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %v; want %v", tt.field, tt.got, tt.want)
		}
	}
}

// listeningLine is the line `pinion serve` prints once it listens (README.md,
// "pinion serve"); scripts depend on its exact form.
var listeningLine = regexp.MustCompile(`^pinion: listening on (127\.0\.0\.1:[0-9]+) \((echo), (loop|goroutine), ([0-9]+) loops\)$`)

// TestServeProcess builds the pinion binary and runs `pinion serve` as a
// process for each model: it checks the listening line, echoes a message,
// interrupts the server with SIGINT while the connection is still open, and
// expects the connection to end with EOF and the process to exit 0.
func TestServeProcess(t *testing.T) {
	bin := buildPinion(t)
	for _, tt := range []struct{ model, loops string }{{"loop", "2"}, {"goroutine", "0"}} {
		t.Run(tt.model, func(t *testing.T) {
			t.Parallel()
			serveProcess(t, bin, tt.model, tt.loops)
		})
	}
}

func serveProcess(t *testing.T, bin, model, wantLoops string) {
	p := startProc(t, bin, "serve", "-addr", "127.0.0.1:0", "-model", model, "-loops", "2", "-pin=false")
	line := p.firstLine(t, 20*time.Second)
	m := listeningLine.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("first line %q does not match %s", line, listeningLine)
	}
	if m[3] != model || m[4] != wantLoops {
		t.Fatalf("first line %q: want model %s with %s loops", line, model, wantLoops)
	}

	c, err := net.DialTimeout("tcp", m[1], 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", m[1], err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(15 * time.Second))
	if err := echoRoundTripOn(c, []byte("hello, pinion\n")); err != nil {
		t.Fatal(err)
	}

	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatalf("SIGINT to pid %d: %v", p.cmd.Process.Pid, err)
	}
	// A graceful shutdown ends the open connection with FIN, not a reset.
	var one [1]byte
	if n, err := c.Read(one[:]); !errors.Is(err, io.EOF) {
		t.Errorf("read after SIGINT = %d, %v; want 0, EOF", n, err)
	}
	_ = c.Close()

	p.exitsCleanly(t, 20*time.Second)
}
