package engine_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pinion-net/pinion/engine"
)

// promtool returns the path of Prometheus' promtool. Without it the test
// is skipped, with a clear message, except under CI, where it fails: CI
// installs it (make deps, Debian's prometheus package).
func promtool(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("promtool not found and CI is set: install Debian's prometheus package (make deps)")
	}
	t.Skip("promtool not found: install Debian's prometheus package (make deps) to run this test")
	return ""
}

// parseExposition reads the text format into series ("name{labels}" as
// written) and their values, and the TYPE of each family. It fails on a
// line it cannot read.
func parseExposition(t testing.TB, b []byte) (series map[string]float64, types map[string]string) {
	t.Helper()
	series, types = map[string]float64{}, map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		if f, ok := strings.CutPrefix(line, "# TYPE "); ok {
			name, typ, _ := strings.Cut(f, " ")
			types[name] = typ
			continue
		}
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if i < 0 || err != nil {
			t.Fatalf("unreadable line %q", line)
		}
		if _, dup := series[line[:i]]; dup {
			t.Fatalf("series written twice: %q", line[:i])
		}
		series[line[:i]] = v
	}
	return series, types
}

// scrape returns WriteMetrics' output.
func scrape(t testing.TB, e *engine.Engine) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := e.WriteMetrics(&b); err != nil {
		t.Fatalf("WriteMetrics: %v", err)
	}
	return b.Bytes()
}

// echoLoad opens n connections to addr and runs rounds echo round trips on
// each; the connections stay open until the test ends.
func echoLoad(t testing.TB, addr string, n, rounds int) []net.Conn {
	t.Helper()
	var cs []net.Conn
	for range n {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		t.Cleanup(func() { c.Close() })
		cs = append(cs, c)
	}
	for r := range rounds {
		for i, c := range cs {
			if err := echoOn(c, []byte(fmt.Sprintf("round %d conn %d\n", r, i))); err != nil {
				t.Fatalf("echo: %v", err)
			}
		}
	}
	return cs
}

func TestWriteMetricsPromtool(t *testing.T) {
	tool := promtool(t)
	e, addr, _ := startEcho(t, engine.Config{})
	echoLoad(t, addr, 8, 10)
	b := scrape(t, e)
	cmd := exec.Command(tool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(b)
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("promtool check metrics: %v\n%s\non:\n%s", err, out, b)
	}
}

func TestWriteMetricsSeries(t *testing.T) {
	e, addr, _ := startEcho(t, engine.Config{OffloadWorkers: 2})
	echoLoad(t, addr, 4, 5)
	// A client reads its last echo before the loop publishes the tick
	// that wrote it: wait for every byte echoLoad sent to be published.
	var sent uint64
	for r := range 5 {
		for i := range 4 {
			sent += uint64(len(fmt.Sprintf("round %d conn %d\n", r, i)))
		}
	}
	waitFor(t, 5*time.Second, "the loops to publish 4 connections and every byte", func() bool {
		st := e.Stats()
		return st.Conns == 4 && st.BytesIn == sent && st.BytesOut == sent
	}, nil)
	series, types := parseExposition(t, scrape(t, e))
	st := e.Stats()

	// Every per-loop family has one series per loop, and never one
	// without the loop label.
	for name, typ := range types {
		perLoop, total := 0, 0
		for s := range series {
			fam := s
			if i := strings.IndexByte(s, '{'); i >= 0 {
				fam = s[:i]
			}
			if typ == "histogram" {
				fam = strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(fam, "_bucket"), "_sum"), "_count")
			}
			if fam != name {
				continue
			}
			if strings.Contains(s, `loop="`) {
				perLoop++
			} else {
				total++
			}
		}
		if perLoop > 0 && total > 0 {
			t.Errorf("family %s mixes %d per-loop series with %d without a loop label", name, perLoop, total)
		}
		if perLoop == 0 && total == 0 {
			t.Errorf("family %s has a TYPE and no series", name)
		}
	}

	var conns, accepted, in float64
	for i := range 2 {
		l := fmt.Sprintf(`{loop="%d"}`, i)
		conns += series["pinion_connections"+l]
		accepted += series["pinion_connections_accepted_total"+l]
		in += series["pinion_received_bytes_total"+l]
		count := series["pinion_callback_duration_seconds_count"+l]
		inf := series[`pinion_callback_duration_seconds_bucket{loop="`+strconv.Itoa(i)+`",le="+Inf"}`]
		if count != inf {
			t.Errorf("loop %d: callback histogram count %v, +Inf bucket %v; want equal", i, count, inf)
		}
	}
	if conns != 4 || accepted != 4 || in != float64(st.BytesIn) {
		t.Errorf("connections %v accepted %v received bytes %v; want 4, 4 and %d", conns, accepted, in, st.BytesIn)
	}
	for _, name := range []string{"pinion_loops", "pinion_offload_workers", "pinion_max_connections"} {
		if _, ok := series[name]; !ok {
			t.Errorf("no series %s", name)
		}
	}
	if series["pinion_offload_workers"] != 2 || series["pinion_loops"] != 2 || series["pinion_max_connections"] != 10000 {
		t.Errorf("workers %v loops %v max connections %v; want 2, 2, 10000",
			series["pinion_offload_workers"], series["pinion_loops"], series["pinion_max_connections"])
	}
}

func TestWriteMetricsAllocs(t *testing.T) {
	e, addr, _ := startEcho(t, engine.Config{})
	echoLoad(t, addr, 2, 2)
	_ = e.WriteMetrics(io.Discard) // sizes the scratch
	if n := testing.AllocsPerRun(20, func() { _ = e.WriteMetrics(io.Discard) }); n != 0 {
		t.Errorf("WriteMetrics allocates %v times per call in steady state; want 0", n)
	}
}

func BenchmarkWriteMetrics(b *testing.B) {
	e, addr, _ := startEcho(b, engine.Config{})
	echoLoad(b, addr, 2, 2)
	var n int
	cw := countWriter{n: &n}
	b.ReportAllocs()
	for b.Loop() {
		_ = e.WriteMetrics(cw)
	}
	b.ReportMetric(float64(n)/float64(b.N), "bytes/scrape")
}

type countWriter struct{ n *int }

func (w countWriter) Write(p []byte) (int, error) { *w.n += len(p); return len(p), nil }
