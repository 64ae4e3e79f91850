package engine_test

import (
	"bytes"
	"io"
	"net"
	"runtime"
	"testing"
	"time"
)

// echoClient starts a one-loop echo engine and returns a client connected
// to it, warmed up with 1000 round trips of size bytes so that buffers,
// pools and the loop's slices have reached their steady size.
func echoClient(tb testing.TB, size int) net.Conn {
	tb.Helper()
	e, _ := startEngine(tb, &echoHandler{}, testConfig())
	c := dial(tb, e.Addrs()[0])
	if err := c.SetDeadline(time.Now().Add(time.Minute)); err != nil {
		tb.Fatalf("SetDeadline: %v", err)
	}
	msg, buf := bytes.Repeat([]byte("w"), size), make([]byte, size)
	for range 1000 {
		if err := echoed(c, msg, buf); err != nil {
			tb.Fatalf("warm-up round trip: %v", err)
		}
	}
	return c
}

// echoed writes msg and reads its echo into buf (len(buf) == len(msg)).
func echoed(c net.Conn, msg, buf []byte) error {
	if _, err := c.Write(msg); err != nil {
		return err
	}
	_, err := io.ReadFull(c, buf)
	return err
}

// TestEchoZeroAllocs checks that an echo round trip allocates nothing in
// steady state. AllocsPerRun counts the mallocs of the whole process, so
// the loop goroutine's reads, handler call, writes and bookkeeping count
// as well as the client's.
func TestEchoZeroAllocs(t *testing.T) {
	const runs = 1000
	c := echoClient(t, 64)
	msg, buf := bytes.Repeat([]byte("a"), 64), make([]byte, 64)
	var failed error
	rt := func() {
		if err := echoed(c, msg, buf); err != nil && failed == nil {
			failed = err
		}
	}
	allocs := testing.AllocsPerRun(runs, rt)
	if failed != nil {
		t.Fatalf("round trip: %v", failed)
	}
	if !bytes.Equal(buf, msg) {
		t.Fatalf("echo: got %q, want %q", buf, msg)
	}
	if allocs != 0 {
		t.Errorf("allocations per echo round trip: got %v, want 0", allocs)
	}

	// AllocsPerRun rounds down: also bound the total, so one allocation
	// every few round trips shows up too. A few may come from the runtime
	// and the testing package; one per ten round trips may not.
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		rt()
	}
	runtime.ReadMemStats(&after)
	if failed != nil {
		t.Fatalf("round trip: %v", failed)
	}
	if n := after.Mallocs - before.Mallocs; n >= runs/10 {
		t.Errorf("allocations in %d echo round trips: got %d, want fewer than %d", runs, n, runs/10)
	} else {
		t.Logf("allocations in %d echo round trips: %d", runs, n)
	}
}

// BenchmarkEcho64 measures one 64-byte echo round trip over loopback TCP.
func BenchmarkEcho64(b *testing.B) {
	benchEcho(b, 64, 1)
}

// BenchmarkEchoPipelined16 sends sixteen 64-byte messages in one write and
// reads the 1 KiB echo back.
func BenchmarkEchoPipelined16(b *testing.B) {
	benchEcho(b, 64, 16)
}

func benchEcho(b *testing.B, size, depth int) {
	c := echoClient(b, size*depth)
	msg, buf := bytes.Repeat([]byte("b"), size*depth), make([]byte, size*depth)
	b.SetBytes(int64(size * depth))
	b.ReportAllocs()
	for b.Loop() {
		if err := echoed(c, msg, buf); err != nil {
			b.Fatalf("round trip: %v", err)
		}
	}
}
