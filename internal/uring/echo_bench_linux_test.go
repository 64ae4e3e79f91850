//go:build linux && (amd64 || arm64)

package uring

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

// BenchmarkEcho compares the ring (with ordinary fds, and with direct
// descriptors: "uring-direct") with epoll on a 64-byte echo, pipelined 1
// and 16 deep, at 100 and 1,000 connections. The server runs on a thread
// pinned to CPU 0 and the client on a thread pinned to CPU 1 (each
// iteration is one round: every connection sends its pipeline and gets it
// back). Reported per request (one 64-byte message):
//
//	sys/req     system calls the server made (io_uring_enter; or
//	            epoll_wait + read + write)
//	srv-ns/req  CPU time of the server thread (user and system)
//	srv-sys-%   the system share of that time
//
// The machine is shared, so run the two backends interleaved (-count) and
// compare ratios, not absolute figures. Docs: docs/adr/0010-io-uring-backend.md.
func BenchmarkEcho(b *testing.B) {
	if runtime.NumCPU() < 2 {
		b.Skip("needs two CPUs: one for the server, one for the client")
	}
	for _, conns := range []int{100, 1000} {
		for _, pipeline := range []int{1, 16} {
			for _, kind := range []string{"uring", "uring-direct", "epoll"} {
				b.Run(fmt.Sprintf("conns=%d/pipeline=%d/%s", conns, pipeline, kind), func(b *testing.B) {
					benchEcho(b, kind, conns, pipeline)
				})
			}
		}
	}
}

func benchEcho(b *testing.B, kind string, conns, pipeline int) {
	const size = 64
	s, err := startEcho(kind, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer s.close()
	undo, err := pinThread(1)
	if err != nil {
		b.Fatal(err)
	}
	defer undo()
	c, err := dialEcho(s.port, conns, pipeline, size)
	if err != nil {
		b.Fatal(err)
	}
	defer c.close()
	for range 10 { // every connection accepted and warm
		if err := c.round(); err != nil {
			b.Fatal(err)
		}
	}
	calls0, cpu0 := s.syscalls.Load(), s.cpuNanos()
	user0, sys0 := s.ticks()
	start := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if err := c.round(); err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	// The server publishes its count at the end of a turn; the round that
	// ended the loop was answered in a turn that has published.
	calls, cpu := s.syscalls.Load()-calls0, s.cpuNanos()-cpu0
	user1, sys1 := s.ticks()
	reqs := float64(b.N * conns * pipeline)
	b.ReportMetric(float64(calls)/reqs, "sys/req")
	b.ReportMetric(float64(cpu)/reqs, "srv-ns/req")
	if t := (user1 - user0) + (sys1 - sys0); t > 0 {
		b.ReportMetric(100*float64(sys1-sys0)/float64(t), "srv-sys-%")
	}
	b.ReportMetric(reqs/elapsed.Seconds(), "req/s")
}
