package main

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// These tests run real HTTP clients from Debian against -proto http on both
// models: curl for keep-alive, HEAD and chunked uploads, wrk for load with
// and without pipelining.

// needTool returns the path of a client binary. Without it the test fails
// under CI (make test installs it) and is skipped elsewhere.
func needTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s not found, and CI is set: make deps installs it", name)
	}
	t.Skipf("%s not found: make deps installs it", name)
	return ""
}

// runTool runs a client with a time limit and returns its stdout and
// stderr; it fails the test when the client fails.
func runTool(t *testing.T, limit time.Duration, name string, args ...string) (stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, needTool(t, name), args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), err, out.String(), errb.String())
	}
	return out.String(), errb.String()
}

// TestCurl fetches each route with curl: bodies, status codes, HEAD.
func TestCurl(t *testing.T) {
	needTool(t, "curl")
	forEachModel(t, func(t *testing.T, model string) {
		base := "http://" + startHTTP(t, model, nil)
		tests := []struct {
			args []string
			want string
		}{
			{[]string{base + "/plaintext"}, "Hello, World!200"},
			{[]string{base + "/json"}, `{"message":"Hello, World!"}200`},
			{[]string{base + "/block?ms=5"}, "ok200"},
			{[]string{base + "/block?ms=20000"}, "ms must be an integer from 0 to 10000\n" + "400"},
			{[]string{base + "/nope"}, "Not Found\n" + "404"},
			{[]string{"-X", "DELETE", base + "/json"}, "Method Not Allowed\n" + "405"},
			{[]string{"-d", "posted", base + "/echo"}, "posted200"},
		}
		for _, tt := range tests {
			args := append([]string{"-s", "--http1.1", "-w", "%{http_code}"}, tt.args...)
			got, _ := runTool(t, 30*time.Second, "curl", args...)
			if got != tt.want {
				t.Errorf("curl %v: got %q, want %q", tt.args, got, tt.want)
			}
		}

		// HEAD: the head of GET, with its Content-Length, and no body.
		head, _ := runTool(t, 30*time.Second, "curl", "-s", "--http1.1", "-I", base+"/plaintext")
		for _, want := range []string{"HTTP/1.1 200 OK\r\n", "Content-Length: 13\r\n", "Server: pinion\r\n"} {
			if !strings.Contains(head, want) {
				t.Errorf("curl -I: got %q, want it to contain %q", head, want)
			}
		}
		if !strings.HasSuffix(head, "\r\n\r\n") {
			t.Errorf("curl -I: got %q, want the head only", head)
		}
	})
}

// TestCurlKeepAlive fetches three URLs in one curl run: the first transfer
// connects, the others reuse its connection.
func TestCurlKeepAlive(t *testing.T) {
	needTool(t, "curl")
	forEachModel(t, func(t *testing.T, model string) {
		base := "http://" + startHTTP(t, model, nil)
		got, _ := runTool(t, 30*time.Second, "curl", "-s", "--http1.1", "-w", " %{http_code} %{num_connects}\n",
			base+"/plaintext", base+"/json", base+"/plaintext")
		want := "Hello, World! 200 1\n" + `{"message":"Hello, World!"} 200 0` + "\nHello, World! 200 0\n"
		if got != want {
			t.Errorf("curl of three URLs: got %q, want %q (a new connection is counted 1)", got, want)
		}
	})
}

// TestCurlChunkedUpload posts a file with Transfer-Encoding: chunked to
// /echo and checks it comes back whole; with Expect: 100-continue too,
// where the server must send 100 Continue rather than make curl wait.
func TestCurlChunkedUpload(t *testing.T) {
	needTool(t, "curl")
	file := filepath.Join(t.TempDir(), "upload")
	want := make([]byte, 700<<10)
	r := rand.New(rand.NewPCG(3, 5))
	for i := range want {
		want[i] = byte(r.Uint32())
	}
	if err := os.WriteFile(file, want, 0o600); err != nil {
		t.Fatal(err)
	}
	forEachModel(t, func(t *testing.T, model string) {
		url := "http://" + startHTTP(t, model, nil) + "/echo"
		for _, expect := range []string{"Expect:", "Expect: 100-continue"} {
			out := filepath.Join(t.TempDir(), "download")
			_, stderr := runTool(t, 30*time.Second, "curl", "-sS", "-v", "--fail", "-H", "Transfer-Encoding: chunked",
				"-H", expect, "--data-binary", "@"+file, "-o", out, url)
			got, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if i := firstDiff(got, want); i >= 0 {
				t.Errorf("%q: echo of %d bytes: got %d bytes, first difference at %d", expect, len(want), len(got), i)
			}
			if !strings.Contains(stderr, "> Transfer-Encoding: chunked") {
				t.Errorf("%q: curl did not send chunked:\n%s", expect, stderr)
			}
			if sent := strings.Contains(stderr, "< HTTP/1.1 100 Continue"); sent != (expect != "Expect:") {
				t.Errorf("%q: 100 Continue received %v, want %v:\n%s", expect, sent, !sent, stderr)
			}
		}
	})
}

// wrkResult is what the tests read from wrk's report.
type wrkResult struct {
	requests  int
	perSecond float64
	errors    string // the "Socket errors" and "Non-2xx" lines, when any
}

var (
	wrkRequests  = regexp.MustCompile(`(?m)^\s*([0-9]+) requests in `)
	wrkPerSecond = regexp.MustCompile(`(?m)^Requests/sec:\s*([0-9.]+)`)
	wrkErrors    = regexp.MustCompile(`(?m)^\s*(Socket errors:.*|Non-2xx or 3xx responses:.*)$`)
)

// runWrk runs wrk for one second on url with 10 connections, with the Lua
// script when it is not empty, and checks its report: requests done, no
// socket errors and no responses other than 2xx.
func runWrk(t *testing.T, url, script string) wrkResult {
	t.Helper()
	args := []string{"-t1", "-c10", "-d1s", "--latency", "--timeout", "5s"}
	if script != "" {
		args = append(args, "-s", script)
	}
	out, _ := runTool(t, 60*time.Second, "wrk", append(args, url)...)
	var res wrkResult
	m := wrkRequests.FindStringSubmatch(out)
	p := wrkPerSecond.FindStringSubmatch(out)
	if m == nil || p == nil {
		t.Fatalf("wrk's report has no request count or rate:\n%s", out)
	}
	res.requests, _ = strconv.Atoi(m[1])
	res.perSecond, _ = strconv.ParseFloat(p[1], 64)
	for _, e := range wrkErrors.FindAllStringSubmatch(out, -1) {
		res.errors += e[1] + "\n"
	}
	if res.requests == 0 || res.errors != "" {
		t.Errorf("wrk %v: %d requests, errors %q; want requests and no errors:\n%s", args, res.requests, res.errors, out)
	}
	return res
}

// wrkPipeline is a wrk script that sends 16 requests per write, each one
// built with wrk.format so it carries wrk's headers and the URL's path.
const wrkPipeline = `-- 16 pipelined requests per write.
init = function(args)
  local batch = {}
  for i = 1, 16 do
    batch[i] = wrk.format()
  end
  pipelined = table.concat(batch)
end

request = function()
  return pipelined
end
`

// TestWrk loads /plaintext and /json with wrk on both models, one request
// at a time and 16 pipelined per write. The rates are logged, not checked:
// they measure the machine as much as the server (and -race slows both).
func TestWrk(t *testing.T) {
	needTool(t, "wrk")
	script := filepath.Join(t.TempDir(), "pipeline.lua")
	if err := os.WriteFile(script, []byte(wrkPipeline), 0o600); err != nil {
		t.Fatal(err)
	}
	forEachModel(t, func(t *testing.T, model string) {
		base := "http://" + startHTTP(t, model, nil)
		for _, run := range []struct{ name, path, script string }{
			{"plaintext", "/plaintext", ""},
			{"json", "/json", ""},
			{"plaintext pipelined 16", "/plaintext", script},
		} {
			res := runWrk(t, base+run.path, run.script)
			t.Logf("%s, %s: %d requests, %.0f requests/s", model, run.name, res.requests, res.perSecond)
		}
	})
}
