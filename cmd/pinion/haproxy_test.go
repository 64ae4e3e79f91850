package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// haproxyBin is Debian's haproxy (DEB_PACKAGES in the Makefile).
const haproxyBin = "/usr/sbin/haproxy"

// haproxyConfig is a TCP proxy on front to the backends, sending PROXY v2,
// with an HTTP health check of each backend's /readyz on its admin address.
func haproxyConfig(front string, backends, admins []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `global
    maxconn 4096

defaults
    mode tcp
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    retries 3
    option redispatch

frontend fe
    bind %s
    default_backend pinion

backend pinion
    balance roundrobin
    option httpchk GET /readyz
`, front)
	for i, a := range backends {
		_, port, _ := net.SplitHostPort(admins[i])
		fmt.Fprintf(&b, "    server s%d %s send-proxy-v2 check port %s inter 200ms fall 2 rise 1\n", i+1, a, port)
	}
	return b.String()
}

// startHAProxy runs haproxy in the foreground on cfg and waits until front
// accepts connections; it is killed (by PID) when the test ends.
func startHAProxy(t *testing.T, cfg, front string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(haproxyBin, "-db", "-f", path)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start haproxy: %v", err)
	}
	exitedCh := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exitedCh) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exitedCh
		if t.Failed() {
			t.Logf("haproxy output:\n%s", out.String())
		}
	})
	waitUntil(t, 10*time.Second, "haproxy to listen on "+front, func() bool {
		select {
		case <-exitedCh:
			t.Fatalf("haproxy exited:\n%s", out.String())
		default:
		}
		c, err := net.DialTimeout("tcp", front, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

// whoamiVia asks GET /whoami through front and returns the answer and the
// client's own address.
func whoamiVia(t *testing.T, front string) (got, want string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", front, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte("GET /whoami HTTP/1.1\r\nHost: t\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	r, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("GET /whoami through haproxy: %v", err)
	}
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != 200 {
		t.Fatalf("GET /whoami through haproxy: status %d", r.StatusCode)
	}
	return string(body), c.LocalAddr().String()
}

// TestHAProxy runs two `pinion serve -proxy-protocol require` backends
// behind a real HAProxy (mode tcp, send-proxy-v2, a health check of
// /readyz). Each backend sees the client's own address (GET /whoami), not
// HAProxy's; then, while `pinion load -reconnect` runs through HAProxy,
// both backends are hot-restarted one after the other, twice, and no
// request is lost: no error of any kind in the load's report.
func TestHAProxy(t *testing.T) {
	if _, err := os.Stat(haproxyBin); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not found and CI is set: install Debian's haproxy package (make deps)", haproxyBin)
		}
		t.Skipf("%s not found: install Debian's haproxy package (make deps) to run this test", haproxyBin)
	}
	bin := buildPinion(t)
	var trees [2]*procTree
	var pids [2]int
	var backends, admins []string
	for i := range trees {
		tree, addr, admin := startTree(t, bin, "-proto", "http", "-loops", "2",
			"-proxy-protocol", "require", "-proxy-trust", "127.0.0.0/8",
			"-drain-timeout", restartDrain.String(), "-drain-grace", "200ms")
		trees[i], pids[i] = tree, tree.first.Process.Pid
		backends, admins = append(backends, addr), append(admins, admin)
	}
	front := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	startHAProxy(t, haproxyConfig(front, backends, admins), front)

	// Round robin: consecutive connections reach both backends.
	for range 4 {
		if got, want := whoamiVia(t, front); got != want {
			t.Fatalf("GET /whoami through haproxy: %q, want the client's address %q", got, want)
		}
	}

	const (
		conns  = 50
		d      = 10 * time.Second
		rounds = 2
	)
	lr := startLoad(t, bin, front, d, "-proto", "http", "-conns", strconv.Itoa(conns), "-pipeline", "1")
	step := 0
	for range rounds {
		for i := range trees {
			step++
			time.Sleep(time.Until(lr.at(step, 2*rounds+1)))
			next := trees[i].restartOnce(pids[i], 15*time.Second)
			waitExit(t, pids[i], restartDrain+2*time.Second)
			pids[i] = next
		}
	}
	r := lr.result(t, conns)
	if got, want := whoamiVia(t, front); got != want {
		t.Errorf("GET /whoami after the restarts: %q, want %q", got, want)
	}
	t.Logf("through haproxy: %d rolling hot restarts in %v: %d requests (%.0f/s), %d reconnects, %d resent",
		2*rounds, d, r.Requests, r.RequestsPerS, r.Reconnects, r.Resent)
	for i, pid := range pids {
		trees[i].stop(pid, restartDrain+2*time.Second)
	}
}
