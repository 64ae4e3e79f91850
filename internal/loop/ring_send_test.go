//go:build linux && (amd64 || arm64)

package loop

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"
)

// The ring backend writes owed bytes at once with a system call and hands
// what a full socket does not take to one send through the ring, which
// waits for room (ringFlush). These tests fill the socket so that the
// second path runs, and check what users rely on: the bytes arrive intact
// and in order, and a connection closed while that send is in flight
// releases its bytes when the send's completion comes back.

// ringSendSize is more than a Unix socket pair buffers, so that the first
// write is short and the rest waits in a send through the ring.
const ringSendSize = 3 << 20

// pattern returns n bytes that differ with their offset, so that lost,
// repeated or reordered pieces show.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>11)
	}
	return b
}

// openWriter is a handler that writes want in 64 KiB pieces when a
// connection opens and reports the connection and its close reason.
func openWriter(want []byte, opened chan<- *Conn, closed chan<- error) *fnHandler {
	return &fnHandler{
		open: func(c *Conn) {
			for p := want; len(p) > 0; {
				n := min(len(p), 64<<10)
				if _, err := c.Write(p[:n]); err != nil {
					panic(err)
				}
				p = p[n:]
			}
			opened <- c
		},
		close: func(_ *Conn, err error) { closed <- err },
	}
}

// sendBusy reports, from the loop's goroutine, whether c has a send in
// flight through the ring.
func sendBusy(t *testing.T, l *Loop, c *Conn) bool {
	t.Helper()
	ch := make(chan bool, 1)
	if err := l.Post(func() { ch <- c.flags&flagSendBusy != 0 }); err != nil {
		t.Fatalf("Post: %v", err)
	}
	return recv(t, ch, "the send state")
}

func TestRingSendAfterShortWrite(t *testing.T) {
	forEachIO(t, func(t *testing.T, mode IOMode) {
		want := pattern(ringSendSize)
		opened, closed := make(chan *Conn, 1), make(chan error, 1)
		l := runLoop(t, Config{IO: mode, Handler: openWriter(want, opened, closed)})
		peer := adoptPair(t, l)
		c := recv(t, opened, "OnOpen")
		// Nothing is read yet, so the socket is full and bytes are owed.
		if s := waitStats(t, l, func(s Stats) bool { return s.Outbound > 0 }); s.Outbound >= int64(len(want)) {
			t.Fatalf("owed %d bytes of %d: the first write took nothing", s.Outbound, len(want))
		}
		if mode == IOUring && !sendBusy(t, l, c) {
			t.Fatalf("bytes are owed but no send is in flight through the ring")
		}
		got := make([]byte, len(want))
		if err := peer.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(peer, got); err != nil {
			t.Fatalf("read: %v", err)
		}
		if i := firstDiff(got, want); i >= 0 {
			t.Fatalf("byte %d differs: got %#x, want %#x", i, got[i], want[i])
		}
		waitStats(t, l, func(s Stats) bool { return s.Outbound == 0 && s.BytesOut == uint64(len(want)) })
		select {
		case err := <-closed:
			t.Fatalf("closed after the transfer: %v", err)
		default:
		}
	})
}

func TestRingSendInFlightAtAbort(t *testing.T) {
	skipWithoutRing(t)
	want := pattern(ringSendSize)
	opened, closed := make(chan *Conn, 1), make(chan error, 1)
	l := runLoop(t, Config{IO: IOUring, Handler: openWriter(want, opened, closed)})
	peer := adoptPair(t, l)
	c := recv(t, opened, "OnOpen")
	waitStats(t, l, func(s Stats) bool { return s.Outbound > 0 })
	if !sendBusy(t, l, c) {
		t.Fatalf("bytes are owed but no send is in flight through the ring")
	}
	errAbort := errors.New("test: abort with a send in flight")
	if err := l.Post(func() { _ = c.Abort(errAbort) }); err != nil {
		t.Fatalf("Post: %v", err)
	}
	if err := recv(t, closed, "OnClose"); !errors.Is(err, errAbort) {
		t.Fatalf("OnClose reason %v, want %v", err, errAbort)
	}
	// The kernel may read the owed bytes until the send's completion, so
	// they wait, parked, for it; then they go back to the pool.
	deadline := time.Now().Add(10 * time.Second)
	for {
		ch := make(chan int, 1)
		if err := l.Post(func() { ch <- len(l.ring.parked) }); err != nil {
			t.Fatalf("Post: %v", err)
		}
		if recv(t, ch, "the parked count") == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the aborted connection's bytes are still parked")
		}
		time.Sleep(time.Millisecond) // polling state the loop changes on a completion
	}
	if s := l.Stats(); s.Outbound != 0 || s.Conns != 0 {
		t.Fatalf("after the abort: %d bytes owed, %d connections", s.Outbound, s.Conns)
	}
	// What the peer got before the abort is a prefix of what was written.
	if err := peer.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(peer)
	if len(got) >= len(want) || !bytes.Equal(got, want[:len(got)]) {
		t.Fatalf("the peer got %d bytes, not a strict prefix of the %d written", len(got), len(want))
	}
	select {
	case err := <-closed:
		t.Fatalf("OnClose ran twice (%v)", err)
	default:
	}
}

// firstDiff returns the first offset where a and b differ, or -1.
func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}
