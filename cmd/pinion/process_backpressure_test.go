package main

import (
	"testing"
	"time"
)

// The pipelining clients of issue 13 against `pinion serve` itself, default
// flags and two loops, measured as the operator sees the server: its
// resident memory (VmRSS, and the kernel's peak VmHWM) from /proc, which
// holds what the Go heap figures of TestRESPPipelinedBigReplies and
// TestHTTPPipelinedEchoBodies leave out (the runtime's spare heap and
// stacks, the kernel's view of buffers).
//
// Reading rate. The client reads at 1 MiB/s, which would take
// 2,000 s for the RESP replies. What matters is that the client reads far
// slower than the server produces and for long enough that a server
// without processing backpressure would have run every pipelined request:
// the old loop model queued 4 MiB of replies within a few commands and
// reset the connection, and one that buffered without bound would hold
// the whole 2 GiB within a second. So each client first reads 2 MiB at the
// issue's 1 MiB/s (2 s), then the rest at a rate that ends the case in
// about 10 s: 256 MiB/s for RESP's 2 GiB (8 s), 16 MiB/s for HTTP's
// 125 MiB (8 s). Both stay below what either model writes to loopback on
// this machine, and the 128 KiB receive buffer of slowDial keeps the
// backlog on the server's side.

// processRSSBound is the most the server's RSS may grow while one client
// pipelines (issue 13).
const processRSSBound = 32 << 20

const (
	slowStartBytes = 2 << 20
	slowStartRate  = 1 << 20
)

// TestProcessRESPPipelinedRSS: a RESP client SETs a 1 MiB value, then
// sends 2,000 GETs of it in one write and reads slowly. It receives every
// reply intact on both models, and the server's RSS grows by less than
// 32 MiB from just before the GETs to its peak.
func TestProcessRESPPipelinedRSS(t *testing.T) {
	const (
		gets = 2000
		size = 1 << 20
		rate = 256 << 20
	)
	needProc(t)
	bin := buildPinion(t)
	value := randomBytes(1, size)
	forEachModel(t, func(t *testing.T, model string) {
		p := startServeFlags(t, bin, "-proto", "resp", "-model", model, "-loops", "2")
		c := slowDial(t, p.addr)
		var base int64
		var stop func() int64
		took := respPipelineGets(t, c, value, gets, newSlowStartPacer(slowStartBytes, slowStartRate, rate), func() {
			base = p.procStatus(t, "VmRSS")
			stop = rssPeak(t, p)
		})
		peak := stop()
		checkRSSGrowth(t, p, model, base, peak, gets, size, took)
	})
}

// TestProcessHTTPPipelinedRSS: an HTTP client pipelines 500 POST /echo
// requests with 256 KiB bodies (each different) and reads the responses
// slowly. It receives every response intact and in order on both models,
// and the server's RSS grows by less than 32 MiB from just before the
// requests to its peak.
func TestProcessHTTPPipelinedRSS(t *testing.T) {
	const (
		reqs = 500
		size = 256 << 10
		rate = 16 << 20
	)
	needProc(t)
	bin := buildPinion(t)
	src := randomBytes(2, 2*size)
	body := func(i int) []byte { off := (i * 7919) % size; return src[off : off+size] }
	forEachModel(t, func(t *testing.T, model string) {
		p := startServeFlags(t, bin, "-proto", "http", "-model", model, "-loops", "2")
		c := slowDial(t, p.addr)
		base := p.procStatus(t, "VmRSS")
		stop := rssPeak(t, p)
		took := httpPipelineEcho(t, c, reqs, body, newSlowStartPacer(slowStartBytes, slowStartRate, rate))
		peak := stop()
		checkRSSGrowth(t, p, model, base, peak, reqs, size, took)
	})
}

// checkRSSGrowth logs a pipelining case's figures and fails it if the
// server's RSS grew past processRSSBound.
func checkRSSGrowth(t *testing.T, p *serverProc, model string, base, peak int64, n, size int, took time.Duration) {
	t.Helper()
	growth := peak - base
	t.Logf("%s: %d replies of %d B in %v; server RSS %s before, peak %s (growth %s), %s after",
		model, n, size, took.Round(time.Millisecond), mib(base), mib(peak), mib(growth), mib(p.procStatus(t, "VmRSS")))
	if growth >= processRSSBound {
		t.Errorf("the server's RSS grew by %s at its peak; want under %s", mib(growth), mib(processRSSBound))
	}
}
