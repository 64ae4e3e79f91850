package loop

import (
	"bytes"
	"errors"
	"io"
	"syscall"
	"testing"
	"time"
)

// TestLingeringClose: a handler answers the first request with 1 MiB and
// closes while 60 KiB more of the peer's input still wait unread in the
// kernel. Closing such a socket at once would reset the peer (on a unix
// socket as on TCP), cutting the reply it has yet to read; the loop's
// lingering close flushes the reply, then reads and drops input until the
// peer's FIN, and only then closes: the peer reads the whole reply and
// then a clean EOF. Without lingering (a negative LingerTimeout) the same
// peer reads the reply and then a reset, which shows what the linger
// prevents.
func TestLingeringClose(t *testing.T) {
	const reply = 1 << 20
	pre := append([]byte("request\n"), make([]byte, 60<<10)...)
	for _, tc := range []struct {
		name   string
		linger time.Duration
		want   error // what the peer reads after the reply
	}{
		{"lingering", 0, io.EOF},
		{"no lingering", -1, syscall.ECONNRESET},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.linger < 0 && envIO(t) == IOUring {
				// The ring's receive stays armed while the reply drains
				// and takes the unread input, so the close that follows
				// is a clean FIN, not the reset shown here.
				t.Skip("io_uring: no input is left unread at the close")
			}
			closed := make(chan error, 1)
			h := &fnHandler{
				data: func(c *Conn) {
					c.Discard(len("request\n"))
					_, _ = c.Write(bytes.Repeat([]byte("r"), reply))
					_ = c.Close()
				},
				close: func(c *Conn, err error) { closed <- err },
			}
			// A small read buffer: the first read takes the request and
			// leaves most of the rest in the kernel.
			l := runLoop(t, Config{Handler: h, ReadBufferSize: 4 << 10, LingerTimeout: tc.linger})
			peer := adoptFilled(t, l, pre)
			_ = peer.SetDeadline(time.Now().Add(10 * time.Second))
			got := make([]byte, reply)
			if _, err := io.ReadFull(peer, got); err != nil {
				t.Fatalf("reading the reply: %v", err)
			}
			if !bytes.Equal(got, bytes.Repeat([]byte("r"), reply)) {
				t.Fatal("the reply arrived changed")
			}
			if tc.linger >= 0 {
				// The peer is done sending: its FIN ends the linger.
				if err := peer.(interface{ CloseWrite() error }).CloseWrite(); err != nil {
					t.Fatal(err)
				}
			}
			n, err := peer.Read(make([]byte, 1))
			if n != 0 || !errors.Is(err, tc.want) {
				t.Fatalf("after the reply: %d bytes, %v; want %v", n, err, tc.want)
			}
			if err := recv(t, closed, "OnClose"); err != nil {
				t.Fatalf("OnClose reason %v; want nil for a Close", err)
			}
		})
	}
}

// TestLingerTimeout: a peer that never sends its FIN holds a lingering
// connection for LingerTimeout, not less and not much more; then the loop
// closes it and its descriptor is released.
func TestLingerTimeout(t *testing.T) {
	const linger = 100 * time.Millisecond
	closing := make(chan time.Time, 1)
	closed := make(chan time.Time, 1)
	h := &fnHandler{
		data: func(c *Conn) {
			c.Discard(-1)
			closing <- time.Now()
			_ = c.Close()
		},
		close: func(c *Conn, err error) { closed <- time.Now() },
	}
	l := runLoop(t, Config{Handler: h, LingerTimeout: linger})
	peer := adoptPair(t, l)
	// Deadlines count from the start of the tick that sets them (the
	// loop's clock is read once a tick), which may be a little before the
	// handler's Close; that tick starts after this write, so the linger
	// is measured from here.
	from := time.Now()
	if _, err := peer.Write([]byte("bye")); err != nil {
		t.Fatal(err)
	}
	recv(t, closing, "the handler's Close")
	took := recv(t, closed, "OnClose").Sub(from)
	if took < linger || took > linger+5*time.Second {
		t.Fatalf("the lingering connection closed after %v; want %v", took, linger)
	}
	waitStats(t, l, func(s Stats) bool { return s.Conns == 0 })
	_ = peer.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := peer.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Fatalf("peer read after the linger: %d bytes, %v; want the close", n, err)
	}
}
