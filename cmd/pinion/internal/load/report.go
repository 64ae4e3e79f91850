package load

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// Result is the report of a run; with -json it is printed as is, and
// bench/cmd/matrix reads it.
//
// Requests and bytes count the responses completed inside the measured
// window; rates divide by its length. Bytes are response bytes, and MB is
// 10^6 bytes. Latency is from the write of a request's batch to the read
// that completed its response, in microseconds. CPUS is the load
// generator's own CPU time (user plus system, all threads) in the window.
type Result struct {
	Proto         string        `json:"proto"`
	Addr          string        `json:"addr"`
	Conns         int           `json:"conns"`
	Open          int           `json:"open"`
	Pipeline      int           `json:"pipeline"`
	Size          int           `json:"size"`           // echo: request bytes; resp: value bytes; http: unused
	Path          string        `json:"path,omitempty"` // http: the path requested
	Op            string        `json:"op,omitempty"`   // resp: get or set
	WarmupS       float64       `json:"warmup_s"`
	DurationS     float64       `json:"duration_s"`
	Requests      uint64        `json:"requests"`
	RequestsPerS  float64       `json:"requests_per_s"`
	Bytes         uint64        `json:"bytes"`
	MBPerS        float64       `json:"mb_per_s"`
	CPUS          float64       `json:"cpu_s"` // this process's CPU time in the window; -1: unknown
	Latency       latencyReport `json:"latency_us"`
	ConnectErrors int           `json:"connect_errors"`
	IOErrors      int           `json:"io_errors"`
	Timeouts      int           `json:"timeouts"`
	VerifyErrors  int           `json:"verify_errors"`
	FirstError    string        `json:"first_error,omitempty"`
}

type latencyReport struct {
	P50  float64 `json:"p50"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

func (r *Result) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	return enc.Encode(r)
}

func (r *Result) writeText(w io.Writer) error {
	d := func(us float64) time.Duration {
		return time.Duration(us * float64(time.Microsecond)).Round(time.Microsecond)
	}
	l := r.Latency
	cpu := "unknown"
	if r.CPUS >= 0 {
		cpu = fmt.Sprintf("%.0f%% of one core", 100*r.CPUS/r.DurationS)
	}
	_, err := fmt.Fprintf(w, `%s %s: %d connections (%d open), pipeline %d, %s, %v after %v of warm-up
requests    %d  (%.0f/s)
throughput  %.2f MB/s of responses
client CPU  %s
latency     p50 %v  p99 %v  p99.9 %v  max %v  mean %v
errors      connect %d  io %d  timeouts %d  verify %d
`,
		r.Proto, r.Addr, r.Conns, r.Open, r.Pipeline, r.requestsText(),
		time.Duration(r.DurationS*float64(time.Second)), time.Duration(r.WarmupS*float64(time.Second)),
		r.Requests, r.RequestsPerS, r.MBPerS, cpu,
		d(l.P50), d(l.P99), d(l.P999), d(l.Max), d(l.Mean),
		r.ConnectErrors, r.IOErrors, r.Timeouts, r.VerifyErrors)
	if err == nil && r.FirstError != "" {
		_, err = fmt.Fprintf(w, "first error %s\n", r.FirstError)
	}
	return err
}

// requestsText says what the requests of the run were.
func (r *Result) requestsText() string {
	switch r.Proto {
	case "http":
		return "GET " + r.Path
	case "resp":
		return fmt.Sprintf("%s of %d B values", strings.ToUpper(r.Op), r.Size)
	}
	return fmt.Sprintf("%d B requests", r.Size)
}
