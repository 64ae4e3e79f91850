package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// lookTool returns the path of a Prometheus tool. Without it the test is
// skipped with a clear message, except under CI, where it fails: CI
// installs Debian's prometheus package (make deps).
func lookTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s not found and CI is set: install Debian's prometheus package (make deps)", name)
	}
	t.Skipf("%s not found: install Debian's prometheus package (make deps) to run this test", name)
	return ""
}

// freePort returns a loopback port free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// heldEchoLoad runs conns connections of echo round trips against addr until
// stop is closed or each has done max round trips; it closes running once
// every client has done one, and returns the connections, still open, once
// every client is done. It may run on any goroutine: it reports instead
// of failing the test; the caller closes the connections.
func heldEchoLoad(addr string, conns, max int, running, stop chan struct{}) ([]net.Conn, error) {
	cs := make([]net.Conn, 0, conns)
	for range conns {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			close(running)
			return cs, fmt.Errorf("dial: %w", err)
		}
		_ = c.SetDeadline(time.Now().Add(60 * time.Second))
		cs = append(cs, c)
	}
	var wg, first sync.WaitGroup
	first.Add(conns)
	go func() { first.Wait(); close(running) }()
	errs := make(chan error, conns)
	for i, c := range cs {
		wg.Go(func() {
			msg := []byte(fmt.Sprintf("load %d\n", i))
			for n := range max {
				if n == 1 {
					first.Done()
				}
				select {
				case <-stop:
					return
				default:
				}
				if err := echoRoundTripOn(c, msg); err != nil {
					errs <- err
					if n == 0 {
						first.Done()
					}
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return cs, fmt.Errorf("echo: %w", err)
	}
	return cs, nil
}

// promtoolCheck runs promtool check metrics on b.
func promtoolCheck(t *testing.T, tool string, b []byte) {
	t.Helper()
	cmd := exec.Command(tool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(b)
	if out, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

func fetch(t *testing.T, u string) []byte {
	t.Helper()
	c := http.Client{Timeout: 10 * time.Second}
	r, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil || r.StatusCode != 200 {
		t.Fatalf("GET %s: %d, %v", u, r.StatusCode, err)
	}
	return b
}

// TestPrometheusScrapes runs a real Prometheus server (loopback, a free
// port, a temporary directory, a 200ms scrape interval, at most a minute,
// killed by PID) against `pinion serve -admin` under load: promtool
// accepts /metrics taken during the load, and once the load stops the
// query API returns one series per loop whose values are the server's own
// (/debug/loops).
func TestPrometheusScrapes(t *testing.T) {
	tool := lookTool(t, "promtool")
	promBin := lookTool(t, "prometheus")
	p := startServe(t, buildPinion(t), "-loops", "2")

	stop, running := make(chan struct{}), make(chan struct{})
	type loadResult struct {
		conns []net.Conn
		err   error
	}
	loaded := make(chan loadResult, 1)
	go func() {
		cs, err := heldEchoLoad(p.addr, 8, 5000, running, stop)
		loaded <- loadResult{cs, err}
	}()
	<-running
	underLoad := fetch(t, "http://"+p.admin+"/metrics")
	close(stop)
	lr := <-loaded
	for _, c := range lr.conns {
		defer c.Close()
	}
	if lr.err != nil {
		t.Fatal(lr.err)
	}
	held := lr.conns
	promtoolCheck(t, tool, underLoad)

	dir := t.TempDir()
	cfg := fmt.Sprintf("global:\n  scrape_interval: 200ms\n  scrape_timeout: 150ms\nscrape_configs:\n  - job_name: pinion\n    static_configs:\n      - targets: ['%s']\n", p.admin)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	web := "127.0.0.1:" + strconv.Itoa(freePort(t))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	prom := exec.CommandContext(ctx, promBin,
		"--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+web,
		"--log.level=warn")
	var promLog bytes.Buffer
	prom.Stdout, prom.Stderr = &promLog, &promLog
	if err := prom.Start(); err != nil {
		t.Fatalf("start prometheus: %v", err)
	}
	defer func() {
		_ = prom.Process.Kill() // by PID
		_ = prom.Wait()
		if t.Failed() {
			t.Logf("prometheus log:\n%s", &promLog)
		}
	}()

	// The server's own view, stable now that the load has stopped.
	var view struct {
		Loops []map[string]float64 `json:"loops"`
	}
	raw := fetch(t, "http://"+p.admin+"/debug/loops")
	if err := json.Unmarshal(raw, &view); err != nil {
		t.Fatalf("/debug/loops: %v\n%s", err, raw)
	}
	if len(view.Loops) != 2 {
		t.Fatalf("/debug/loops has %d loops, want 2", len(view.Loops))
	}

	type result struct {
		Metric map[string]string `json:"metric"`
		Value  [2]any            `json:"value"`
	}
	query := func(q string) []result {
		c := http.Client{Timeout: 5 * time.Second}
		r, err := c.Get("http://" + web + "/api/v1/query?query=" + url.QueryEscape(q))
		if err != nil {
			return nil // not up yet
		}
		defer r.Body.Close()
		var out struct {
			Status string `json:"status"`
			Data   struct {
				Result []result `json:"result"`
			} `json:"data"`
		}
		if json.NewDecoder(r.Body).Decode(&out) != nil || out.Status != "success" {
			return nil
		}
		return out.Data.Result
	}
	// matches reports whether the query returns one series per loop, each
	// with the value /debug/loops gave under key.
	matches := func(q, key string) (bool, string) {
		res := query(q)
		if len(res) != 2 {
			return false, fmt.Sprintf("%s: %d series", q, len(res))
		}
		for _, r := range res {
			i, err := strconv.Atoi(r.Metric["loop"])
			if err != nil || i < 0 || i > 1 {
				return false, fmt.Sprintf("%s: series %v has no loop 0 or 1", q, r.Metric)
			}
			v, _ := strconv.ParseFloat(fmt.Sprint(r.Value[1]), 64)
			if v != view.Loops[i][key] {
				return false, fmt.Sprintf("%s{loop=%d} = %v, want %v", q, i, v, view.Loops[i][key])
			}
		}
		return true, ""
	}
	checks := []struct{ query, key string }{
		{"pinion_connections_accepted_total", "connections_accepted"},
		{"pinion_received_bytes_total", "received_bytes"},
		{"pinion_sent_bytes_total", "sent_bytes"},
		{"pinion_connections", "connections"},
		{`pinion_connections_closed_total{reason="peer"}`, "connections_closed.peer"},
	}
	deadline := time.Now().Add(45 * time.Second)
	for _, c := range checks {
		for {
			ok, why := matches(c.query, c.key)
			if ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("Prometheus never returned the server's values: %s", why)
			}
			time.Sleep(100 * time.Millisecond) // polling an outside server's API
		}
	}
	var open float64
	for _, l := range view.Loops {
		open += l["connections"]
	}
	if int(open) != len(held) {
		t.Errorf("connections over the loops: %v, want the %d the test holds", open, len(held))
	}
	if res := query("sum(pinion_connections_accepted_total)"); len(res) != 1 || fmt.Sprint(res[0].Value[1]) != strconv.Itoa(len(held)) {
		t.Errorf("sum(pinion_connections_accepted_total): %v, want %d", res, len(held))
	}
}
