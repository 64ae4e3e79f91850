package main

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Real clients through -proto proxy on both models: redis-benchmark to a
// real redis-server (Debian's), and wrk to pinion's own HTTP server.

// startRedisServer runs redis-server on a free loopback port, without
// persistence, and kills it (by its PID) when the test ends.
func startRedisServer(t *testing.T) string {
	t.Helper()
	bin := needTool(t, "redis-server")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close() // free again for redis-server; nothing else here takes ports from it
	cmd := exec.Command(bin, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", t.TempDir(), "--daemonize", "no", "--loglevel", "warning")
	var logs lockedBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	addr := net.JoinHostPort("127.0.0.1", port)
	waitUntil(t, 10*time.Second, "redis-server to accept connections", func() bool {
		select {
		case err := <-exited:
			t.Fatalf("redis-server exited: %v\n%s", err, logs.String())
		default:
		}
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return addr
}

var (
	benchHeader    = regexp.MustCompile(`====== (.+) ======`)
	benchCompleted = regexp.MustCompile(`^\s*([0-9]+) requests completed in `)
)

// TestProxyRedisBenchmark runs redis-benchmark (50 connections, 16
// requests pipelined) through the proxy to a real redis-server: it exits
// cleanly (since Redis 7 it exits on the first error reply or dropped
// connection), prints no error, reports every request of every test
// completed, and the counter the INCR test bumped holds exactly the number
// of requests sent, read back through the proxy.
func TestProxyRedisBenchmark(t *testing.T) {
	bench := needRedisTool(t, "redis-benchmark")
	cli := needRedisTool(t, "redis-cli")
	const requests = 20000
	tests := []string{"PING_INLINE", "SET", "GET", "INCR", "LPUSH", "LPOP", "MSET (10 keys)"}
	forEachModel(t, func(t *testing.T, model string) {
		host, port := respHostPort(t, startProxy(t, model, startRedisServer(t), nil))
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, bench, "-h", host, "-p", port, "-t", "ping_inline,set,get,incr,lpush,lpop,mset",
			"-P", "16", "-c", "50", "-n", strconv.Itoa(requests)).CombinedOutput()
		if err != nil {
			t.Fatalf("redis-benchmark: %v\n%s", err, out)
		}
		done := make(map[string]int)
		current := ""
		for _, line := range strings.FieldsFunc(string(out), func(r rune) bool { return r == '\r' || r == '\n' }) {
			if strings.Contains(strings.ToLower(line), "error") {
				t.Errorf("redis-benchmark printed an error: %q", line)
			}
			if m := benchHeader.FindStringSubmatch(line); m != nil {
				current = m[1]
			}
			if m := benchCompleted.FindStringSubmatch(line); m != nil {
				done[current], _ = strconv.Atoi(m[1])
			}
		}
		for _, name := range tests {
			if done[name] != requests {
				t.Errorf("%s: %d requests completed, want %d", name, done[name], requests)
			}
		}
		got, err := exec.CommandContext(ctx, cli, "-h", host, "-p", port, "--raw", "GET", "counter:__rand_int__").CombinedOutput()
		if err != nil || strings.TrimSpace(string(got)) != strconv.Itoa(requests) {
			t.Errorf("INCR counter read back %q, %v; want %d", got, err, requests)
		}
		if t.Failed() {
			t.Logf("redis-benchmark output:\n%s", out)
		}
	})
}

// TestProxyWrk runs wrk through the proxy to pinion's HTTP server, one
// request at a time and 16 pipelined per write: requests done, no socket
// errors, no status other than 2xx (runWrk checks its report).
func TestProxyWrk(t *testing.T) {
	needTool(t, "wrk")
	script := filepath.Join(t.TempDir(), "pipeline.lua")
	if err := os.WriteFile(script, []byte(wrkPipeline), 0o600); err != nil {
		t.Fatal(err)
	}
	forEachModel(t, func(t *testing.T, model string) {
		base := "http://" + startProxy(t, model, startHTTP(t, "loop", nil), nil)
		for _, run := range []struct{ name, script string }{{"plaintext", ""}, {"plaintext pipelined 16", script}} {
			res := runWrk(t, base+"/plaintext", run.script)
			t.Logf("%s proxy, %s: %d requests, %.0f requests/s", model, run.name, res.requests, res.perSecond)
		}
	})
}
