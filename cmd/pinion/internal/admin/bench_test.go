package admin

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/pinion-net/pinion/engine"
)

// BenchmarkMetrics measures the /metrics handler alone (no connection):
// a one-loop engine's exposition plus the process's figures.
func BenchmarkMetrics(b *testing.B) {
	e, err := engine.Start(echo{}, engine.Config{Addrs: []string{"127.0.0.1:0"}, Loops: 1, Pin: engine.PinOff})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Shutdown(context.Background())
	s := &Server{cfg: Config{Metrics: e.WriteMetrics}, proc: openProcStat()}
	defer s.proc.close()
	req := httptest.NewRequest("GET", "/metrics", nil)
	b.ReportAllocs()
	for b.Loop() {
		s.metrics(httptest.NewRecorder(), req)
	}
}

// BenchmarkProcessMetrics measures the process's figures alone.
func BenchmarkProcessMetrics(b *testing.B) {
	buf := make([]byte, 0, 4096)
	p := openProcStat()
	defer p.close()
	b.ReportAllocs()
	for b.Loop() {
		buf = appendProcessMetrics(buf[:0], p)
	}
}
