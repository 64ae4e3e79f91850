package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// These tests are the pipelining clients of processing backpressure: a
// client sends many requests with large replies in one go and reads the
// replies slower than the server produces them. Every reply must arrive
// intact and in order, and the server's memory must stay bounded by its
// configuration, not by how much the client pipelined.
//
// The server runs in the test process, so memory is measured as the Go
// heap in use (runtime.MemStats.HeapInuse), sampled every 10ms: the peak
// minus the heap after a GC before the pipeline starts. The clients read
// into fixed buffers, so what grows is the server's.

// pipelineHeapBound is the most the heap may grow while one client
// pipelines: the bound on the server's growth.
const pipelineHeapBound = 32 << 20

// heapPeak samples the heap in use until stop is called, which returns the
// peak growth over the heap at the start (after a GC).
func heapPeak() (stop func() int64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := int64(ms.HeapInuse)
	return samplePeak(func() (int64, bool) {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return int64(ms.HeapInuse) - base, true
	})
}

// samplePeak calls sample every 10ms, from now until stop is called, which
// returns the highest value sample gave (those it reports false for do not
// count; 0 if none did).
func samplePeak(sample func() (int64, bool)) (stop func() int64) {
	done := make(chan struct{})
	peak := make(chan int64, 1)
	go func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		var top int64
		for {
			if v, ok := sample(); ok {
				top = max(top, v)
			}
			select {
			case <-done:
				peak <- top
				return
			case <-tick.C:
			}
		}
	}()
	return func() int64 { close(done); return <-peak }
}

// pacer keeps a reader at rate bytes per second, after a first slowBytes
// at slowRate.
type pacer struct {
	start     time.Time
	rate      float64
	slowBytes int64
	slowRate  float64
	n         int64
}

func newPacer(rate float64) *pacer { return &pacer{start: time.Now(), rate: rate} }

// newSlowStartPacer is newPacer(rate) after a first slowBytes at slowRate.
func newSlowStartPacer(slowBytes int64, slowRate, rate float64) *pacer {
	return &pacer{start: time.Now(), rate: rate, slowBytes: slowBytes, slowRate: slowRate}
}

// read records n bytes read and sleeps until the rate allows them.
func (p *pacer) read(n int) {
	p.n += int64(n)
	slow := min(p.n, p.slowBytes)
	secs := float64(p.n-slow) / p.rate
	if slow > 0 {
		secs += float64(slow) / p.slowRate
	}
	if d := time.Until(p.start.Add(time.Duration(secs * float64(time.Second)))); d > 0 {
		time.Sleep(d)
	}
}

// pacedReader reads from r through a pacer.
type pacedReader struct {
	r io.Reader
	p *pacer
}

func (pr pacedReader) Read(b []byte) (int, error) {
	n, err := pr.r.Read(b[:min(len(b), 64<<10)])
	pr.p.read(n)
	return n, err
}

// slowDial connects with a small receive buffer, so that the kernel holds
// little of what the server sends and the backlog stays with the server.
func slowDial(t *testing.T, addr string) *net.TCPConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	tc := c.(*net.TCPConn)
	_ = tc.SetReadBuffer(128 << 10)
	t.Cleanup(func() { _ = tc.Close() })
	_ = tc.SetDeadline(time.Now().Add(3 * time.Minute))
	return tc
}

// serverStalls returns how often the loop server's handler stopped on a
// saturated connection, or -1 for the goroutine model.
func serverStalls(srv server) int64 {
	ls, ok := srv.(*loopServer)
	if !ok {
		return -1
	}
	var n int64
	for _, l := range ls.e.Stats().Loops {
		n += int64(l.Stalls)
	}
	return n
}

// randomBytes returns n bytes from a seeded generator.
func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 3))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// TestRESPPipelinedBigReplies: SET a 1 MiB value, then 2,000 GETs of it
// in one write, read back at 400 MiB/s through a 128 KiB receive buffer
// (the client read at 1 MiB/s; scaled so the test takes seconds,
// still slower than the server). Every reply arrives intact, and the heap
// grows by less than 32 MiB while 2 GiB of replies pass.
func TestRESPPipelinedBigReplies(t *testing.T) {
	const (
		gets  = 2000
		size  = 1 << 20
		rate  = 400 << 20
		limit = 3 * time.Minute
	)
	value := randomBytes(1, size)
	forEachModel(t, func(t *testing.T, model string) {
		srv := startServer(t, model, func(c *serveConfig) { c.proto = "resp" })
		c := slowDial(t, srv.addr())
		var stop func() int64
		took := respPipelineGets(t, c, value, gets, newPacer(rate), func() { stop = heapPeak() })
		growth := stop()
		t.Logf("%s: %d replies of %d B in %v (%.0f MiB/s), heap growth peak %.1f MiB, stalls %d",
			model, gets, size, took.Round(time.Millisecond), float64(gets*size)/(1<<20)/took.Seconds(),
			float64(growth)/(1<<20), serverStalls(srv))
		if growth >= pipelineHeapBound {
			t.Errorf("heap grew by %d B at its peak; want under %d", growth, pipelineHeapBound)
		}
		if n := serverStalls(srv); model == "loop" && n == 0 {
			t.Errorf("the loop server never stalled: its handler did not stop on Saturated")
		}
	})
}

// TestHTTPPipelinedEchoBodies: 500 POST /echo requests with 256 KiB bodies
// (each different), pipelined by a writer while a reader takes the
// responses at 100 MiB/s through a 128 KiB receive buffer. Every response
// is 200 with its own body, in order, and the heap grows by less than
// 32 MiB while 125 MiB pass each way.
func TestHTTPPipelinedEchoBodies(t *testing.T) {
	const (
		reqs = 500
		size = 256 << 10
		rate = 100 << 20
	)
	src := randomBytes(2, 2*size)
	body := func(i int) []byte { off := (i * 7919) % size; return src[off : off+size] }
	forEachModel(t, func(t *testing.T, model string) {
		srv := startServer(t, model, func(c *serveConfig) { c.proto = "http" })
		c := slowDial(t, srv.addr())
		stop := heapPeak()
		took := httpPipelineEcho(t, c, reqs, body, newPacer(rate))
		growth := stop()
		t.Logf("%s: %d responses of %d B in %v, heap growth peak %.1f MiB, stalls %d",
			model, reqs, size, took.Round(time.Millisecond), float64(growth)/(1<<20), serverStalls(srv))
		if growth >= pipelineHeapBound {
			t.Errorf("heap grew by %d B at its peak; want under %d", growth, pipelineHeapBound)
		}
	})
}

// respPipelineGets SETs value on c and waits for its +OK, calls begin,
// then writes gets GETs of the value in one write from another goroutine
// while reading the replies through p. Each reply must be the value,
// intact and in order. It returns how long the replies took from begin.
func respPipelineGets(t *testing.T, c net.Conn, value []byte, gets int, p *pacer, begin func()) time.Duration {
	t.Helper()
	br := bufio.NewReaderSize(c, 64<<10)
	set := fmt.Appendf(nil, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%d\r\n", len(value))
	set = append(append(set, value...), "\r\n"...)
	if _, err := c.Write(set); err != nil {
		t.Fatalf("write SET: %v", err)
	}
	if line, err := br.ReadString('\n'); line != "+OK\r\n" || err != nil {
		t.Fatalf("SET reply: got %q, %v; want +OK", line, err)
	}
	begin()
	pipeline := bytes.Repeat([]byte("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"), gets)
	werr := make(chan error, 1)
	go func() { _, err := c.Write(pipeline); werr <- err }()
	start := time.Now()
	p.start = start
	br.Reset(pacedReader{r: c, p: p})
	got := make([]byte, len(value)+2)
	header := fmt.Sprintf("$%d\r\n", len(value))
	for i := range gets {
		line, err := br.ReadString('\n')
		if err != nil || line != header {
			t.Fatalf("reply %d of %d: header %q, %v; want %q", i, gets, line, err, header)
		}
		if _, err := io.ReadFull(br, got); err != nil {
			t.Fatalf("reply %d of %d: %v", i, gets, err)
		}
		if !bytes.Equal(got[:len(value)], value) || string(got[len(value):]) != "\r\n" {
			t.Fatalf("reply %d of %d: the value differs first at byte %d", i, gets, firstDiff(got[:len(value)], value))
		}
	}
	took := time.Since(start)
	if err := <-werr; err != nil {
		t.Fatalf("write GETs: %v", err)
	}
	return took
}

// httpPipelineEcho writes reqs POST /echo requests with the bodies body(i)
// on c from another goroutine while reading the responses through p. Each
// response must be a 200 with its request's body, in order. It returns how
// long the responses took.
func httpPipelineEcho(t *testing.T, c net.Conn, reqs int, body func(int) []byte, p *pacer) time.Duration {
	t.Helper()
	werr := make(chan error, 1)
	go func() {
		for i := range reqs {
			b := body(i)
			head := fmt.Appendf(nil, "POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: %d\r\n\r\n", len(b))
			if _, err := c.Write(head); err != nil {
				werr <- err
				return
			}
			if _, err := c.Write(b); err != nil {
				werr <- err
				return
			}
		}
		werr <- nil
	}()
	start := time.Now()
	p.start = start
	br := bufio.NewReaderSize(pacedReader{r: c, p: p}, 64<<10)
	var got []byte
	for i := range reqs {
		want := body(i)
		n, err := httpReadHead(br)
		if err != nil {
			t.Fatalf("response %d of %d: %v", i, reqs, err)
		}
		if n != len(want) {
			t.Fatalf("response %d of %d: Content-Length %d, want %d", i, reqs, n, len(want))
		}
		if cap(got) < n {
			got = make([]byte, n)
		}
		if _, err := io.ReadFull(br, got[:n]); err != nil {
			t.Fatalf("response %d of %d: body: %v", i, reqs, err)
		}
		if !bytes.Equal(got[:n], want) {
			t.Fatalf("response %d of %d: the body differs first at byte %d", i, reqs, firstDiff(got[:n], want))
		}
	}
	took := time.Since(start)
	if err := <-werr; err != nil {
		t.Fatalf("write requests: %v", err)
	}
	return took
}

// httpReadHead reads a response's status line and header section from br,
// requires a 200, and returns its Content-Length. It keeps nothing, so the
// reader allocates little.
func httpReadHead(br *bufio.Reader) (int, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, fmt.Errorf("status line: %w", err)
	}
	if !bytes.HasPrefix(line, []byte("HTTP/1.1 200 ")) {
		return 0, fmt.Errorf("status line %q, want 200", line)
	}
	n := -1
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return 0, fmt.Errorf("header: %w", err)
		}
		if string(line) == "\r\n" {
			break
		}
		if v, ok := bytes.CutPrefix(line, []byte("Content-Length: ")); ok {
			n, err = strconv.Atoi(string(bytes.TrimSpace(v)))
			if err != nil {
				return 0, fmt.Errorf("Content-Length %q: %w", v, err)
			}
		}
	}
	if n < 0 {
		return 0, fmt.Errorf("no Content-Length")
	}
	return n, nil
}
