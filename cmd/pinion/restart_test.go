package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pinion-net/pinion/internal/tcptest"
)

// The hot restart under load (issue 11): restartLoadDuration of `pinion
// load` while the server is restarted restartCount times. restartDrain is
// the servers' -drain-timeout: each old process must exit within it.
const (
	restartLoadDuration = 20 * time.Second
	restartCount        = 5
	restartDrain        = 3 * time.Second
	restartConns        = 200
)

// TestHotRestartUnderLoad: `pinion load -reconnect` (200 connections,
// pipeline 1) runs against `pinion serve` (the built binary) while it is
// hot-restarted five times with SIGUSR2: HTTP and echo on the loop model,
// and HTTP on the goroutine model for a shorter run. No connect error, no
// reset or other I/O error, no timeout, no verification error: every
// request was answered, those the draining servers closed their
// connections on before answering were sent again and answered by the new
// process. Each old process exits within the drain timeout.
func TestHotRestartUnderLoad(t *testing.T) {
	bin := buildPinion(t)
	for _, tc := range []struct {
		model, proto string
		d            time.Duration
		restarts     int
	}{
		{"loop", "http", restartLoadDuration, restartCount},
		{"loop", "echo", restartLoadDuration, restartCount},
		{"goroutine", "http", restartLoadDuration / 4, 2},
		// Each restart of the proxy takes its drain timeout: room for two.
		{"loop", "proxy", restartLoadDuration * 3 / 5, 2},
	} {
		t.Run(tc.model+"/"+tc.proto, func(t *testing.T) {
			restartUnderLoad(t, bin, tc.model, tc.proto, tc.d, tc.restarts)
		})
	}
}

// restartUnderLoad is one case of TestHotRestartUnderLoad. A proxy relays
// to an echo server of the test's, and is loaded with echo: its relays,
// busy all along, never go quiet, so each old process cuts them at its
// drain's deadline, and the load sends again what they had not answered.
func restartUnderLoad(t *testing.T, bin, model, proto string, d time.Duration, restarts int) {
	args := []string{"-model", model, "-proto", proto, "-loops", "2",
		"-drain-timeout", restartDrain.String(), "-drain-grace", "200ms"}
	loadProto := proto
	if proto == "proxy" {
		upstream := tcptest.Serve(t, func(c net.Conn) { _, _ = io.Copy(c, c) })
		args, loadProto = append(args, "-upstream", upstream), "echo"
	}
	tree, addr, admin := startTree(t, bin, args...)
	pid := tree.first.Process.Pid
	lr := startLoad(t, bin, addr, d, "-proto", loadProto, "-conns", strconv.Itoa(restartConns), "-pipeline", "1", "-size", "64")
	// The restarts are spread over the measured window.
	var drains []string
	for i := range restarts {
		time.Sleep(time.Until(lr.at(i+1, restarts+1)))
		from := tree.mark()
		next := tree.restartOnce(pid, 15*time.Second)
		took := waitExit(t, pid, restartDrain+2*time.Second)
		if took > restartDrain+500*time.Millisecond {
			t.Errorf("restart %d: old process %d exited %v after its successor was ready, past the %v drain timeout", i+1, pid, took, restartDrain)
		}
		if m := tree.find(from, drainedRe); m != nil {
			drains = append(drains, m[2])
			// The proxy's busy relays are cut at the deadline.
			if m[3] != "<nil>" && (proto != "proxy" || !strings.Contains(m[3], "deadline exceeded")) {
				t.Errorf("restart %d: the drain of %d ended with %s", i+1, pid, m[3])
			}
		}
		if got := status("http://" + admin + "/readyz"); got != 200 {
			t.Errorf("restart %d: /readyz of the new process %d answered %d", i+1, next, got)
		}
		pid = next
	}
	r := lr.result(t, restartConns)
	// Every old process stops accepting on all its sockets before it
	// ends a connection, so each connection moves exactly once per
	// restart: straight to the new process.
	if want := uint64(restarts * restartConns); r.Reconnects != want {
		t.Errorf("%d reconnects, want %d (each connection once per restart)", r.Reconnects, want)
	}
	t.Logf("%s %s: %d restarts in %v: %d requests (%.0f/s), %d reconnects, %d unanswered requests resent; drains took %s",
		model, proto, restarts, d, r.Requests, r.RequestsPerS, r.Reconnects, r.Resent, strings.Join(drains, ", "))
	tree.stop(pid, restartDrain+2*time.Second)
}

// replaceFile puts a file with content and mode at path by renaming over
// it, as a deployment replaces a binary under a running process.
func replaceFile(t *testing.T, path string, content []byte) {
	t.Helper()
	tmp := path + ".new"
	if err := os.WriteFile(tmp, content, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// TestHotRestartFailure: a new binary that exits at start, and one that
// never becomes ready, leave the old process serving (same PID, /readyz
// 200, requests answered) and are logged with the reason; a SIGUSR2 while
// a restart runs is ignored and logged; once the binary is good again a
// restart succeeds.
func TestHotRestartFailure(t *testing.T) {
	built := buildPinion(t)
	good, err := os.ReadFile(built)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "pinion")
	replaceFile(t, bin, good)
	tree, addr, admin := startTree(t, bin, "-proto", "http", "-loops", "2", "-restart-timeout", "3s",
		"-drain-timeout", restartDrain.String())
	pid := tree.first.Process.Pid
	serving := func(when string) {
		t.Helper()
		c := http.Client{Timeout: 5 * time.Second}
		r, err := c.Get("http://" + addr + "/plaintext")
		if err != nil {
			t.Fatalf("%s: GET: %v", when, err)
		}
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != 200 || string(body) != "Hello, World!" {
			t.Fatalf("%s: GET answered %d %q", when, r.StatusCode, body)
		}
		if got := status("http://" + admin + "/readyz"); got != 200 {
			t.Fatalf("%s: /readyz %d, want 200", when, got)
		}
		if exited(pid) {
			t.Fatalf("%s: process %d exited", when, pid)
		}
	}
	serving("before")

	for _, tc := range []struct{ name, script, reason string }{
		{"exits at start", "#!/bin/sh\necho 'broken build' >&2\nexit 3\n", "exit status 3"},
		{"never ready", "#!/bin/sh\nexec sleep 30\n", "not ready in time"},
	} {
		replaceFile(t, bin, []byte(tc.script))
		from := tree.mark()
		if err := syscall.Kill(pid, syscall.SIGUSR2); err != nil {
			t.Fatal(err)
		}
		if tc.name == "never ready" {
			// A second signal while the first restart waits is ignored.
			waitUntil(t, 5*time.Second, "the new process to start", func() bool { return hasChild(pid) })
			if err := syscall.Kill(pid, syscall.SIGUSR2); err != nil {
				t.Fatal(err)
			}
			tree.waitLine(from, restartBusyRe, 5*time.Second)
		}
		m := tree.waitLine(from, restartFailedRe, 10*time.Second)
		if !strings.Contains(m[2], tc.reason) {
			t.Errorf("%s: logged %q, want the reason %q", tc.name, m[2], tc.reason)
		}
		serving("after a new binary that " + tc.name)
	}
	// The admin endpoint answers a failed restart with 500 and the reason.
	if code, body := postRestart(t, admin); code != 500 || !strings.Contains(body, "not ready in time") {
		t.Errorf("POST /restart with a binary that never becomes ready: %d %q, want 500 and the reason", code, body)
	}
	serving("after a failed POST /restart")

	replaceFile(t, bin, good)
	next := tree.restartOnce(pid, 15*time.Second)
	waitExit(t, pid, restartDrain+2*time.Second)
	pid = next
	serving("after the good binary's restart")

	// And through the admin endpoint: the answer comes once the new
	// process serves, naming it.
	code, body := postRestart(t, admin)
	m := regexp.MustCompile(`^new process (\d+) serves; process (\d+) drains\n$`).FindStringSubmatch(body)
	if code != 200 || m == nil || m[2] != strconv.Itoa(pid) {
		t.Fatalf("POST /restart: %d %q, want 200 naming the new process and %d", code, body, pid)
	}
	waitExit(t, pid, restartDrain+2*time.Second)
	pid, _ = strconv.Atoi(m[1])
	serving("after POST /restart")
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitExit(t, pid, restartDrain+2*time.Second)
}

// hasChild reports whether process pid has a child process now.
func hasChild(pid int) bool {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		st, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(st)
		i := strings.LastIndexByte(s, ')')
		if f := strings.Fields(s[i+1:]); len(f) > 1 && f[1] == strconv.Itoa(pid) {
			return true
		}
	}
	return false
}

// TestServeSystemdSockets: `pinion serve` started as systemd's socket
// activation starts it (LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES, sockets
// from descriptor 3) serves on the sockets it was given, the one named
// "admin" as its admin server, whatever -addr says.
func TestServeSystemdSockets(t *testing.T) {
	bin := buildPinion(t)
	var files []*os.File
	var addrs []string
	for range 2 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		f, err := ln.(*net.TCPListener).File()
		if err != nil {
			t.Fatal(err)
		}
		ln.Close() // f keeps the socket open, listening
		defer f.Close()
		files, addrs = append(files, f), append(addrs, ln.Addr().String())
	}
	// systemd sets LISTEN_PID to the PID it starts; the shell's exec keeps
	// its own.
	cmd := exec.Command("/bin/sh", "-c", `LISTEN_PID=$$ LISTEN_FDS=2 LISTEN_FDNAMES=web:admin exec "$0" serve -addr 127.0.0.1:1 -proto http -pin=false -loops 2 -admin 127.0.0.1:1`, bin)
	cmd.ExtraFiles = files
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exitedCh := make(chan error, 1)
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			lines <- sc.Text()
		}
		_, _ = io.Copy(io.Discard, out)
		exitedCh <- cmd.Wait()
	}()
	defer func() {
		_ = cmd.Process.Kill()
	}()
	var line string
	select {
	case line = <-lines:
	case err := <-exitedCh:
		t.Fatalf("exited: %v\nstderr: %s", err, stderr.String())
	case <-time.After(20 * time.Second):
		t.Fatal("no listening line")
	}
	m := adminLine.FindStringSubmatch(line)
	if m == nil || m[1] != addrs[0] || m[5] != addrs[1] {
		t.Fatalf("listening line %q: want the server on %s and the admin on %s", line, addrs[0], addrs[1])
	}
	c := http.Client{Timeout: 5 * time.Second}
	r, err := c.Get("http://" + addrs[0] + "/plaintext")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if string(body) != "Hello, World!" {
		t.Errorf("GET /plaintext on the socket-activated server: %q", body)
	}
	if got := status("http://" + addrs[1] + "/readyz"); got != 200 {
		t.Errorf("/readyz on the inherited admin socket: %d", got)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exitedCh:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v\nstderr: %s", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("still running 20s after SIGTERM")
	}
}

// postRestart sends POST /restart to the admin address and returns the
// status and body.
func postRestart(t *testing.T, admin string) (int, string) {
	t.Helper()
	c := http.Client{Timeout: 30 * time.Second}
	r, err := c.Post("http://"+admin+"/restart", "text/plain", nil)
	if err != nil {
		t.Fatalf("POST /restart: %v", err)
	}
	defer r.Body.Close()
	body, _ := io.ReadAll(r.Body)
	return r.StatusCode, string(body)
}
