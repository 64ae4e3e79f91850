package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pinion-net/pinion/cmd/pinion/internal/load"
)

// runLoadCmd runs "pinion load" in-process and returns its exit status and
// outputs.
func runLoadCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := load.Run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func decodeResult(t *testing.T, stdout string) (load.Result, map[string]any) {
	t.Helper()
	var r load.Result
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("decode JSON report: %v\n%s", err, stdout)
	}
	var fields map[string]any
	if err := json.Unmarshal([]byte(stdout), &fields); err != nil {
		t.Fatalf("decode JSON report as a map: %v", err)
	}
	return r, fields
}

// TestLoadEcho runs a short load against both server models and checks the
// JSON report: requests were made, nothing failed, every field is there.
func TestLoadEcho(t *testing.T) {
	forEachModel(t, func(t *testing.T, model string) {
		addr := startModel(t, model, nil)
		code, stdout, stderr := runLoadCmd(t, "-addr", addr, "-proto", "echo", "-conns", "20",
			"-pipeline", "4", "-size", "64", "-warmup", "100ms", "-duration", "300ms", "-json")
		if code != 0 {
			t.Fatalf("exit status %d, want 0\nstdout: %s\nstderr: %s", code, stdout, stderr)
		}
		r, fields := decodeResult(t, stdout)
		for _, k := range []string{"proto", "addr", "conns", "open", "pipeline", "size", "warmup_s", "duration_s",
			"requests", "requests_per_s", "bytes", "mb_per_s", "cpu_s", "latency_us",
			"connect_errors", "io_errors", "timeouts", "verify_errors"} {
			if _, ok := fields[k]; !ok {
				t.Errorf("JSON report has no %q field", k)
			}
		}
		lat, _ := fields["latency_us"].(map[string]any)
		for _, k := range []string{"p50", "p99", "p999", "max", "mean"} {
			if _, ok := lat[k]; !ok {
				t.Errorf("JSON latency_us has no %q field", k)
			}
		}
		if r.Requests == 0 || r.RequestsPerS <= 0 {
			t.Errorf("requests = %d (%v/s), want > 0", r.Requests, r.RequestsPerS)
		}
		if got, want := r.Bytes, r.Requests*64; got < want-20*4*64 || got > want+20*4*64 {
			t.Errorf("bytes = %d, want about requests × size = %d", got, want)
		}
		if r.Open != 20 || r.ConnectErrors+r.IOErrors+r.Timeouts+r.VerifyErrors != 0 {
			t.Errorf("open %d, errors connect %d io %d timeouts %d verify %d; want 20 open, no errors (first: %s)",
				r.Open, r.ConnectErrors, r.IOErrors, r.Timeouts, r.VerifyErrors, r.FirstError)
		}
		l := r.Latency
		if !(0 < l.P50 && l.P50 <= l.P99 && l.P99 <= l.P999 && l.P999 <= l.Max) {
			t.Errorf("latency p50 %v p99 %v p99.9 %v max %v: want 0 < p50 <= p99 <= p99.9 <= max", l.P50, l.P99, l.P999, l.Max)
		}
		if r.CPUS <= 0 || r.CPUS > 2*r.DurationS*float64(runtime.NumCPU()) {
			t.Errorf("cpu_s = %v for a %vs window, want a plausible positive figure", r.CPUS, r.DurationS)
		}
		for _, line := range []string{"pinion load: measuring\n", "pinion load: measured\n"} {
			if !strings.Contains(stderr, line) {
				t.Errorf("stderr lacks %q:\n%s", line, stderr)
			}
		}
	})
}

func TestLoadText(t *testing.T) {
	addr := startModel(t, "loop", nil)
	code, stdout, stderr := runLoadCmd(t, "-addr", addr, "-conns", "4", "-pipeline", "2",
		"-warmup", "0s", "-duration", "200ms")
	if code != 0 {
		t.Fatalf("exit status %d, want 0\nstderr: %s", code, stderr)
	}
	for _, want := range []string{"requests ", "MB/s", "client CPU ", "p99.9 ", "verify 0", "64 B requests"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("text report lacks %q:\n%s", want, stdout)
		}
	}
	for _, tc := range []struct {
		proto string
		args  []string
		want  string
	}{
		{"http", []string{"-path", "/json"}, "pipeline 2, GET /json,"},
		{"resp", []string{"-op", "set", "-size", "10"}, "pipeline 2, SET of 10 B values,"},
	} {
		addr := startModel(t, "loop", func(c *serveConfig) { c.proto = tc.proto })
		code, stdout, stderr := runLoadCmd(t, append([]string{"-addr", addr, "-proto", tc.proto, "-conns", "2",
			"-pipeline", "2", "-warmup", "0s", "-duration", "100ms"}, tc.args...)...)
		if code != 0 || !strings.Contains(stdout, tc.want) || !strings.HasPrefix(stdout, tc.proto+" ") {
			t.Errorf("%s: exit status %d, report %q; want 0 and a report starting %q and saying %q\nstderr: %s",
				tc.proto, code, stdout, tc.proto, tc.want, stderr)
		}
	}
}

// TestLoadIdle holds idle connections on both models: "ready N" comes once
// all are open and have echoed a message, and stopping ends it cleanly.
func TestLoadIdle(t *testing.T) {
	forEachModel(t, func(t *testing.T, model string) {
		addr := startModel(t, model, nil)
		pr, pw := io.Pipe()
		stop := make(chan struct{})
		code := make(chan int, 1)
		var stderr bytes.Buffer
		go func() {
			code <- load.RunUntil(stop, []string{"-idle", "-addr", addr, "-conns", "50", "-size", "100"}, pw, &stderr)
			pw.Close()
		}()
		line, err := bufio.NewReader(pr).ReadString('\n')
		if err != nil || line != "ready 50\n" {
			t.Fatalf("first line %q (%v), want \"ready 50\\n\"", line, err)
		}
		close(stop)
		if c := <-code; c != 0 {
			t.Errorf("exit status %d, want 0; stderr: %s", c, stderr.String())
		}
	})
}

// loadClean runs "pinion load -json" with args and checks it measured
// requests without any error.
func loadClean(t *testing.T, args ...string) load.Result {
	t.Helper()
	code, stdout, stderr := runLoadCmd(t, append(args, "-json")...)
	if code != 0 {
		t.Fatalf("exit status %d, want 0\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	r, _ := decodeResult(t, stdout)
	if r.Requests == 0 {
		t.Errorf("requests = 0, want > 0")
	}
	if r.ConnectErrors+r.IOErrors+r.Timeouts+r.VerifyErrors != 0 {
		t.Errorf("errors connect %d io %d timeouts %d verify %d, want none (first: %s)",
			r.ConnectErrors, r.IOErrors, r.Timeouts, r.VerifyErrors, r.FirstError)
	}
	return r
}

func withProto(proto string) func(*serveConfig) {
	return func(c *serveConfig) { c.proto = proto }
}

// TestLoadHTTP runs -proto http, pipelined, against both server models.
func TestLoadHTTP(t *testing.T) {
	forEachModel(t, func(t *testing.T, model string) {
		addr := startModel(t, model, withProto("http"))
		for _, path := range []string{"/plaintext", "/json"} {
			r := loadClean(t, "-addr", addr, "-proto", "http", "-path", path, "-conns", "8",
				"-pipeline", "16", "-warmup", "0s", "-duration", "300ms")
			if r.Proto != "http" || r.Path != path {
				t.Errorf("report proto %q path %q, want http %s", r.Proto, r.Path, path)
			}
		}
	})
}

// TestLoadHTTPNotFound checks that a 404 fails the run, saying so.
func TestLoadHTTPNotFound(t *testing.T) {
	addr := startModel(t, "loop", withProto("http"))
	code, stdout, stderr := runLoadCmd(t, "-addr", addr, "-proto", "http", "-path", "/nope", "-conns", "4",
		"-pipeline", "16", "-warmup", "0s", "-duration", "300ms", "-json")
	if code != 1 {
		t.Errorf("exit status %d, want 1\nstderr: %s", code, stderr)
	}
	r, _ := decodeResult(t, stdout)
	if r.VerifyErrors != 4 {
		t.Errorf("verify_errors = %d, want 4 (one per connection)", r.VerifyErrors)
	}
	if want := "http verification failed: response 1: status 404, want 200"; r.FirstError != want {
		t.Errorf("first_error = %q, want %q", r.FirstError, want)
	}
	if !strings.Contains(stderr, "4 verification errors") {
		t.Errorf("stderr does not report the verification errors:\n%s", stderr)
	}
}

// TestLoadRESP runs -proto resp, both ops, pipelined, against both server
// models.
func TestLoadRESP(t *testing.T) {
	forEachModel(t, func(t *testing.T, model string) {
		addr := startModel(t, model, withProto("resp"))
		for _, op := range []string{"get", "set"} {
			r := loadClean(t, "-addr", addr, "-proto", "resp", "-op", op, "-size", "100", "-conns", "8",
				"-pipeline", "16", "-warmup", "0s", "-duration", "300ms")
			if r.Proto != "resp" || r.Op != op || r.Size != 100 {
				t.Errorf("report proto %q op %q size %d, want resp %s 100", r.Proto, r.Op, r.Size, op)
			}
		}
	})
}

// TestLoadRESPAgainstEcho checks that -proto resp fails fast and loudly
// against a server that speaks something else.
func TestLoadRESPAgainstEcho(t *testing.T) {
	addr := startModel(t, "loop", nil)
	start := time.Now()
	code, stdout, stderr := runLoadCmd(t, "-addr", addr, "-proto", "resp", "-conns", "3", "-pipeline", "4",
		"-warmup", "0s", "-duration", "300ms", "-timeout", "1s", "-json")
	if took := time.Since(start); took > 300*time.Millisecond+time.Second+400*time.Millisecond {
		t.Errorf("run took %v, want it bounded by -duration and -timeout", took)
	}
	if code != 1 {
		t.Errorf("exit status %d, want 1\nstderr: %s", code, stderr)
	}
	r, _ := decodeResult(t, stdout)
	if r.VerifyErrors != 3 || r.Requests != 0 {
		t.Errorf("verify_errors %d, requests %d; want 3 and 0", r.VerifyErrors, r.Requests)
	}
	// The echo of the SET is an array of 3 bulk strings, unless it came
	// back in pieces.
	if !strings.HasPrefix(r.FirstError, "resp verification failed: reply 1") || !strings.Contains(r.FirstError, "+OK") {
		t.Errorf("first_error = %q, want it to say reply 1 was not +OK", r.FirstError)
	}
}

// TestLoadIdleProtocols holds idle connections with one exchange of each
// protocol on both models.
func TestLoadIdleProtocols(t *testing.T) {
	forEachModel(t, func(t *testing.T, model string) {
		for _, args := range [][]string{{"-proto", "http"}, {"-proto", "resp", "-op", "get"}, {"-proto", "resp", "-op", "set"}} {
			addr := startModel(t, model, withProto(args[1]))
			stop := make(chan struct{})
			close(stop)
			var stdout, stderr strings.Builder
			if c := load.RunUntil(stop, append([]string{"-idle", "-addr", addr, "-conns", "20"}, args...), &stdout, &stderr); c != 0 || stdout.String() != "ready 20\n" {
				t.Errorf("%v: exit status %d, stdout %q, stderr %q; want 0 and \"ready 20\"", args, c, stdout.String(), stderr.String())
			}
		}
	})
}
