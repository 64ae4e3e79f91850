package main

import (
	"context"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// These tests run Redis's own clients, from Debian's redis-tools, against
// the resp server of both models.

// needRedisTool returns the path of a redis-tools binary. Without it the test
// is skipped, or fails under CI (make test installs it).
func needRedisTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	switch {
	case err == nil:
		return path
	case os.Getenv("CI") != "":
		t.Fatalf("%s not found (CI is set): %v", name, err)
	}
	t.Skipf("%s not installed; `make deps` installs it (Debian package redis-tools)", name)
	return ""
}

// respHostPort splits the server's address for the clients' -h and -p.
func respHostPort(t *testing.T, addr string) (string, string) {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("address %q: %v", addr, err)
	}
	return host, port
}

// TestRedisCLI runs redis-cli once per command, in order, against one
// server, and compares its output. --no-raw makes redis-cli format replies
// as on a terminal ("OK", "(integer) 1", "(nil)", numbered arrays);
// --raw prints bare values.
func TestRedisCLI(t *testing.T) {
	cli := needRedisTool(t, "redis-cli")
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"--no-raw", "PING"}, "PONG"},
		{[]string{"--no-raw", "PING", "hi there"}, `"hi there"`},
		{[]string{"--no-raw", "ECHO", "hello"}, `"hello"`},
		{[]string{"--no-raw", "GET", "k"}, "(nil)"},
		{[]string{"--no-raw", "SET", "k", "v1"}, "OK"},
		{[]string{"--no-raw", "GET", "k"}, `"v1"`},
		{[]string{"--raw", "GET", "k"}, "v1"},
		{[]string{"--no-raw", "SET", "k", "v2", "NX"}, "(nil)"},
		{[]string{"--no-raw", "SET", "k", "v2", "XX", "EX", "100"}, "OK"},
		{[]string{"--no-raw", "TTL", "k"}, "(integer) 100"},
		{[]string{"--no-raw", "SET", "k", "v3", "PX", "50000"}, "OK"},
		{[]string{"--no-raw", "TTL", "k"}, "(integer) 50"},
		{[]string{"--no-raw", "SET", "new", "v", "XX"}, "(nil)"},
		{[]string{"--no-raw", "SET", "k", "v", "EX", "0"}, "(error) ERR invalid expire time in 'set' command"},
		{[]string{"--no-raw", "EXPIRE", "k", "30"}, "(integer) 1"},
		{[]string{"--no-raw", "EXPIRE", "missing", "30"}, "(integer) 0"},
		{[]string{"--no-raw", "TTL", "missing"}, "(integer) -2"},
		{[]string{"--no-raw", "SET", "k", "plain"}, "OK"},
		{[]string{"--no-raw", "TTL", "k"}, "(integer) -1"},
		{[]string{"--no-raw", "INCR", "n"}, "(integer) 1"},
		{[]string{"--no-raw", "INCR", "n"}, "(integer) 2"},
		{[]string{"--no-raw", "DECR", "n"}, "(integer) 1"},
		{[]string{"--no-raw", "INCR", "k"}, "(error) ERR value is not an integer or out of range"},
		{[]string{"--no-raw", "MSET", "a", "1", "b", "2"}, "OK"},
		{[]string{"--no-raw", "MGET", "a", "nope", "b"}, "1) \"1\"\n2) (nil)\n3) \"2\""},
		{[]string{"--raw", "MGET", "a", "b"}, "1\n2"},
		{[]string{"--no-raw", "EXISTS", "a", "b", "nope", "a"}, "(integer) 3"},
		{[]string{"--no-raw", "DBSIZE"}, "(integer) 4"},
		{[]string{"--no-raw", "DEL", "a", "b", "nope"}, "(integer) 2"},
		{[]string{"--no-raw", "DBSIZE"}, "(integer) 2"},
		{[]string{"--no-raw", "FLUSHALL"}, "OK"},
		{[]string{"--no-raw", "DBSIZE"}, "(integer) 0"},
		{[]string{"--no-raw", "COMMAND"}, "(empty array)"},
		{[]string{"--no-raw", "COMMAND", "COUNT"}, "(integer) 0"},
		{[]string{"--no-raw", "COMMAND", "DOCS"}, "(empty array)"},
		{[]string{"--no-raw", "CONFIG", "GET", "save"}, "1) \"save\"\n2) \"\""},
		{[]string{"--no-raw", "CONFIG", "GET", "appendonly"}, "1) \"appendonly\"\n2) \"no\""},
		{[]string{"--no-raw", "CONFIG", "GET", "maxmemory"}, "(empty array)"},
		{[]string{"--no-raw", "SELECT", "0"}, "OK"},
		{[]string{"--no-raw", "CLIENT", "SETNAME", "tester"}, "OK"},
		{[]string{"--no-raw", "QUIT"}, "OK"},
		{[]string{"--no-raw", "NOSUCH", "x"}, "(error) ERR unknown command 'NOSUCH'"},
		{[]string{"--no-raw", "GET"}, "(error) ERR wrong number of arguments for 'get' command"},
	}
	forEachModel(t, func(t *testing.T, model string) {
		host, port := respHostPort(t, startRESP(t, model))
		for _, s := range steps {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			args := append([]string{"-h", host, "-p", port}, s.args...)
			out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput()
			cancel()
			got := strings.TrimSuffix(string(out), "\n")
			if err != nil || got != s.want {
				t.Errorf("redis-cli %s:\n got %q (%v)\nwant %q", strings.Join(s.args, " "), got, err, s.want)
			}
		}
	})
}

// benchResult matches redis-benchmark -q's line for one test, such as
// "SET: 833333.31 requests per second, p50=0.503 msec".
var benchResult = regexp.MustCompile(`^([A-Z_]+(?: \(10 keys\))?): ([0-9.]+) requests per second`)

// benchProgress matches the progress lines redis-benchmark redraws with a
// carriage return while a test runs.
var benchProgress = regexp.MustCompile(`^[A-Z_]+(?: \(10 keys\))?: rps=`)

// TestRedisBenchmark runs redis-benchmark pipelined from 50 connections:
// it must exit cleanly, report a rate for every test, and print nothing
// else (no errors from the server, no warning about CONFIG GET).
func TestRedisBenchmark(t *testing.T) {
	bench := needRedisTool(t, "redis-benchmark")
	want := []string{"PING_INLINE", "PING_MBULK", "SET", "GET", "INCR", "MSET (10 keys)"}
	forEachModel(t, func(t *testing.T, model string) {
		host, port := respHostPort(t, startRESP(t, model))
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, bench, "-h", host, "-p", port,
			"-t", "ping,set,get,incr,mset", "-P", "16", "-c", "50", "-n", "20000", "-q").CombinedOutput()
		if err != nil {
			t.Fatalf("redis-benchmark: %v\n%s", err, out)
		}
		rates := make(map[string]float64)
		for _, line := range strings.FieldsFunc(string(out), func(r rune) bool { return r == '\r' || r == '\n' }) {
			line = strings.TrimSpace(line)
			switch m := benchResult.FindStringSubmatch(line); {
			case line == "", benchProgress.MatchString(line):
			case m != nil:
				rate, err := strconv.ParseFloat(m[2], 64)
				if err != nil || rate <= 0 {
					t.Errorf("%s: rate %q, want a positive number", m[1], m[2])
				}
				rates[m[1]] = rate
			default:
				t.Errorf("unexpected line from redis-benchmark: %q", line)
			}
		}
		for _, name := range want {
			if _, ok := rates[name]; !ok {
				t.Errorf("no requests per second reported for %s; output:\n%s", name, out)
			}
		}
		t.Logf("%s model: %v requests/s", model, rates)
	})
}
