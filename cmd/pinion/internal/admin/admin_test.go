package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func startTest(t *testing.T, cfg Config) *Server {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	s, err := Start(cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Close(ctx)
	})
	return s
}

// get returns the status and body of GET url.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	c := http.Client{Timeout: 10 * time.Second}
	r, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatalf("GET %s: body: %v", url, err)
	}
	return r.StatusCode, string(b)
}

func TestHealthAndReadiness(t *testing.T) {
	s := startTest(t, Config{})
	base := "http://" + s.Addr()
	if code, _ := get(t, base+"/healthz"); code != 200 {
		t.Errorf("/healthz: %d, want 200", code)
	}
	if code, _ := get(t, base+"/readyz"); code != 503 {
		t.Errorf("/readyz before SetReady: %d, want 503", code)
	}
	s.SetReady(true)
	if code, _ := get(t, base+"/readyz"); code != 200 {
		t.Errorf("/readyz when ready: %d, want 200", code)
	}
	s.SetReady(false)
	if code, _ := get(t, base+"/readyz"); code != 503 {
		t.Errorf("/readyz after SetReady(false): %d, want 503", code)
	}
	if code, body := get(t, base+"/debug/pprof/"); code != 200 || !strings.Contains(body, "goroutine") {
		t.Errorf("/debug/pprof/: %d, want 200 and the profile index", code)
	}
	if code, _ := get(t, base+"/debug/loops"); code != 404 {
		t.Errorf("/debug/loops without Loops: %d, want 404", code)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := net.DialTimeout("tcp", s.Addr(), time.Second); err == nil {
		t.Errorf("dial after Close succeeded; want refused")
	}
}

func TestMetricsAppendsProcess(t *testing.T) {
	s := startTest(t, Config{Metrics: func(w io.Writer) error {
		_, err := io.WriteString(w, "# TYPE pinion_x gauge\npinion_x 1\n")
		return err
	}})
	code, body := get(t, "http://"+s.Addr()+"/metrics")
	if code != 200 || !strings.HasPrefix(body, "# TYPE pinion_x gauge\npinion_x 1\n") || !strings.Contains(body, "\ngo_goroutines ") {
		t.Errorf("/metrics: %d %q; want the source's metrics, then the process's", code, body)
	}
	failing := startTest(t, Config{Metrics: func(io.Writer) error { return errors.New("boom") }})
	if code, body := get(t, "http://"+failing.Addr()+"/metrics"); code != 500 || !strings.Contains(body, "boom") {
		t.Errorf("/metrics of a failing source: %d %q; want 500 and the error", code, body)
	}
}

func TestLoopbackUnlessNamed(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{":9100", "127.0.0.1:9100", ""},
		{"0.0.0.0:9100", "0.0.0.0:9100", ""},
		{"[::1]:0", "[::1]:0", ""},
		{"9100", "", "missing port"},
		{"host:http", "", "bad port"},
	}
	for _, tt := range tests {
		got, err := loopbackUnlessNamed(tt.in)
		if got != tt.want || (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("loopbackUnlessNamed(%q) = %q, %v; want %q, error containing %q", tt.in, got, err, tt.want, tt.err)
		}
	}
}

// TestConnectionCap holds the only admin connection open: a second
// client is not served until it closes.
func TestConnectionCap(t *testing.T) {
	s := startTest(t, Config{MaxConns: 1})
	hog, err := net.DialTimeout("tcp", s.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = hog.SetDeadline(time.Now().Add(10 * time.Second))
	// The server accepted hog when one request on it is answered.
	fmt.Fprintf(hog, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	buf := make([]byte, 12)
	if _, err := io.ReadFull(hog, buf); err != nil || string(buf) != "HTTP/1.1 200" {
		t.Fatalf("first request: %q, %v", buf, err)
	}
	c := http.Client{Timeout: 300 * time.Millisecond}
	if r, err := c.Get("http://" + s.Addr() + "/healthz"); err == nil {
		r.Body.Close()
		t.Fatalf("a second connection was served while the cap of 1 was held")
	}
	hog.Close()
	if code, _ := get(t, "http://"+s.Addr()+"/healthz"); code != 200 {
		t.Errorf("after the first connection closed: %d, want 200", code)
	}
}
