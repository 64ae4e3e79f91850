package loop

import (
	"bytes"
	"io"
	"testing"
	"time"
)

// TestAsyncWritesOneSyscall covers the defect "1,000 AsyncWrites to one
// connection handled in one tick make 1,000 sendto calls": the writes a
// tick's posted tasks queue on a connection are flushed together, with
// one write system call.
func TestAsyncWritesOneSyscall(t *testing.T) {
	const n, size = 1000, 64
	handles := make(chan Handle, 1)
	h := &fnHandler{open: func(c *Conn) { handles <- c.Handle() }}
	l := runLoop(t, Config{Handler: h})
	peer := adoptPair(t, l)
	hd := recv(t, handles, "OnOpen")

	// Hold the loop inside a posted function while the writes are
	// posted, so that the next tick finds all of them.
	entered, gate := make(chan struct{}), make(chan struct{})
	if err := l.Post(func() { close(entered); <-gate }); err != nil {
		t.Fatal(err)
	}
	recv(t, entered, "the posted function")
	before := l.Stats().WriteCalls
	want := make([]byte, 0, n*size)
	for i := range n {
		p := bytes.Repeat([]byte{byte('a' + i%26)}, size)
		want = append(want, p...)
		if err := hd.AsyncWrite(p, nil); err != nil {
			t.Fatalf("AsyncWrite %d: %v", i, err)
		}
	}
	close(gate)

	got := make([]byte, len(want))
	if _, err := io.ReadFull(peer, got); err != nil {
		t.Fatalf("read: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("the bytes arrived changed or out of order")
	}
	s := waitStats(t, l, func(s Stats) bool { return s.BytesOut >= uint64(len(want)) })
	if calls := s.WriteCalls - before; calls != 1 {
		t.Fatalf("%d AsyncWrites handled in one tick made %d write system calls; want 1", n, calls)
	}
}

// BenchmarkAsyncWriteBatch measures 64 AsyncWrites of 64 bytes to one
// connection, posted together and read back by the peer; see
// TestAsyncWritesOneSyscall for the system calls they cost.
func BenchmarkAsyncWriteBatch(b *testing.B) {
	const n, size = 64, 64
	handles := make(chan Handle, 1)
	h := &fnHandler{open: func(c *Conn) { handles <- c.Handle() }}
	l := runLoop(b, Config{Handler: h})
	peer := adoptPair(b, l)
	hd := recv(b, handles, "OnOpen")
	p := bytes.Repeat([]byte("x"), size)
	buf := make([]byte, n*size)
	b.ReportAllocs()
	start := l.Stats().WriteCalls
	for b.Loop() {
		for range n {
			if err := hd.AsyncWrite(p, nil); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := io.ReadFull(peer, buf); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	for deadline := time.Now().Add(5 * time.Second); l.Stats().BytesOut < uint64(b.N*n*size) && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	b.ReportMetric(float64(l.Stats().WriteCalls-start)/float64(b.N), "writes/op")
}
