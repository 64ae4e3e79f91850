package engine_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pinion-net/pinion/engine"
)

// TestHalfCloseEcho sends a payload, shuts down the client's write side,
// and reads to the end: every byte must come back before the server's FIN,
// and the stream must end with EOF, not a reset. 4 MiB is far above the
// high watermark, so the server is still flushing a paused backlog when it
// reads the client's FIN.
func TestHalfCloseEcho(t *testing.T) {
	const (
		writeHigh = 256 << 10
		smallBuf  = 16 << 10
	)
	tests := []struct {
		name   string
		size   int
		paused bool // the server must have paused reading on the way
	}{
		{"1 B", 1, false},
		{"64 KiB", 64 << 10, false},
		{"4 MiB", 4 << 20, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Small socket buffers between the server and the client's
			// reader (the server's send buffer, the client's receive
			// buffer) make the server's backlog build up instead of
			// vanishing into autotuned kernel buffers; a large receive
			// buffer on the server holds what it does not read while
			// paused.
			h := newEchoHandler()
			h.onOpen = func(c *engine.Conn) {
				_ = unix.SetsockoptInt(c.Fd(), unix.SOL_SOCKET, unix.SO_SNDBUF, smallBuf)
				_ = unix.SetsockoptInt(c.Fd(), unix.SOL_SOCKET, unix.SO_RCVBUF, 4<<20)
			}
			e, addr := startEngine(t, h, engine.Config{WriteHigh: writeHigh})
			d := net.Dialer{Timeout: 5 * time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
				var serr error
				err := rc.Control(func(fd uintptr) {
					serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, smallBuf)
				})
				return errors.Join(err, serr)
			}}
			c, err := d.Dial("tcp", addr)
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer c.Close()
			tc := c.(*net.TCPConn)

			pat := newPattern(64 << 10)
			payload := make([]byte, 0, tt.size)
			for off := 0; off < tt.size; {
				n := min(tt.size-off, 64<<10)
				payload = append(payload, pat.at(int64(off), n)...)
				off += n
			}

			// Write everything, then FIN, and only then read. The kernel
			// buffers towards the server (the client's send buffer, the
			// server's receive buffer, made large here) hold what the
			// paused server does not take. Where they are too small for
			// that, the writer stalls while the server is paused, and the
			// client must start reading before its FIN: the stream must
			// still end the same way.
			var sent atomic.Int64
			writeErr := make(chan error, 1)
			go func() {
				for off := 0; off < tt.size; {
					if err := tc.SetWriteDeadline(time.Now().Add(20 * time.Second)); err != nil {
						writeErr <- err
						return
					}
					n, err := tc.Write(payload[off:min(off+64<<10, tt.size)])
					off += n
					sent.Store(int64(off))
					if err != nil {
						writeErr <- fmt.Errorf("write at offset %d: %w", off, err)
						return
					}
				}
				writeErr <- tc.CloseWrite()
			}()
			writerDone := false
			var last int64
			lastChange := time.Now()
			tick := time.NewTicker(2 * time.Millisecond)
			for deadline := time.Now().Add(20 * time.Second); !writerDone; {
				select {
				case err := <-writeErr:
					if err != nil {
						t.Fatalf("writer: %v", err)
					}
					writerDone = true
					continue
				case <-tick.C:
				}
				if n := sent.Load(); n != last {
					last, lastChange = n, time.Now()
				}
				if time.Since(lastChange) > 300*time.Millisecond && readPausesOf(e.Stats()) > 0 {
					break // stalled behind a paused server: read now
				}
				if time.Now().After(deadline) {
					t.Fatalf("writer stuck at %d of %d bytes and the server did not pause", last, tt.size)
				}
			}
			tick.Stop()
			if !writerDone {
				t.Logf("kernel buffers too small to hold the payload: reading from offset 0 with %d of %d bytes sent", last, tt.size)
			}

			if err := tc.SetReadDeadline(time.Now().Add(20 * time.Second)); err != nil {
				t.Fatal(err)
			}
			got := make([]byte, 0, tt.size)
			buf := make([]byte, 64<<10)
			var rerr error
			for {
				n, err := tc.Read(buf)
				got = append(got, buf[:n]...)
				if err != nil {
					rerr = err
					break
				}
			}
			if rerr != io.EOF {
				t.Errorf("read ended with %v after %d of %d bytes, want EOF", rerr, len(got), tt.size)
			}
			if !bytes.Equal(got, payload) {
				i := 0
				for i < len(got) && i < len(payload) && got[i] == payload[i] {
					i++
				}
				t.Fatalf("echo: got %d bytes, want %d; first difference at byte %d", len(got), tt.size, i)
			}
			if !writerDone {
				if err := <-writeErr; err != nil {
					t.Fatalf("writer: %v", err)
				}
			}
			if err := waitClosed(t, h, 10*time.Second); err != io.EOF {
				t.Errorf("OnClose reason: got %v, want EOF", err)
			}
			st := e.Stats()
			pauses := readPausesOf(st)
			t.Logf("read pauses %d, outbound peak %d", pauses, st.OutboundPeak)
			if tt.paused && pauses == 0 {
				t.Errorf("read pauses: got 0, want > 0 (no backlog to flush at close)")
			}
		})
	}
}

// closeWriteHandler answers the first "ping\n" with "pong\n" and then calls
// CloseWrite; it records what arrives after that and the close reason.
type closeWriteHandler struct {
	engine.BaseHandler
	want int // bytes expected after the answer

	got    chan struct{} // closed once want bytes arrived after the answer
	closed chan error

	mu       sync.Mutex
	answered bool
	after    []byte
	writeErr error // Write after CloseWrite
	signaled bool
}

func (h *closeWriteHandler) OnData(c *engine.Conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.answered {
		if c.Buffered() < 5 {
			return
		}
		if q := string(c.Next(5)); q != "ping\n" {
			_ = c.CloseWithError(fmt.Errorf("got request %q, want %q", q, "ping\n"))
			return
		}
		h.answered = true
		_, _ = c.Write([]byte("pong\n"))
		if err := c.CloseWrite(); err != nil {
			_ = c.CloseWithError(err)
			return
		}
		_, h.writeErr = c.Write([]byte("late"))
	}
	h.after = append(h.after, c.Next(-1)...)
	if len(h.after) >= h.want && !h.signaled {
		h.signaled = true
		close(h.got)
	}
}

func (h *closeWriteHandler) OnClose(_ *engine.Conn, err error) { h.closed <- err }

// TestServerCloseWrite checks Conn.CloseWrite: the client reads the answer
// and then EOF, yet can still send, and the server still receives; the
// connection closes when the client closes its side.
func TestServerCloseWrite(t *testing.T) {
	const after = 256 << 10
	h := &closeWriteHandler{want: after, got: make(chan struct{}), closed: make(chan error, 1)}
	e, addr := startEngine(t, h, engine.Config{})
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(20 * time.Second)); err != nil {
		t.Fatal(err)
	}

	if _, err := io.WriteString(c, "ping\n"); err != nil {
		t.Fatalf("write request: %v", err)
	}
	answer, err := io.ReadAll(c)
	if err != nil || string(answer) != "pong\n" {
		t.Fatalf("read to EOF: got %q, %v; want %q, nil (EOF)", answer, err, "pong\n")
	}

	pat := newPattern(after)
	if _, err := c.Write(pat.at(0, after)); err != nil {
		t.Fatalf("write after the server's FIN: %v", err)
	}
	select {
	case <-h.got:
	case <-time.After(20 * time.Second):
		h.mu.Lock()
		n := len(h.after)
		h.mu.Unlock()
		t.Fatalf("server received %d of %d bytes sent after its FIN", n, after)
	}
	h.mu.Lock()
	if !bytes.Equal(h.after, pat.at(0, after)) {
		t.Errorf("server received %d bytes after its FIN, not the %d sent", len(h.after), after)
	}
	if !errors.Is(h.writeErr, engine.ErrWriteClosed) {
		t.Errorf("Write after CloseWrite: got %v, want %v", h.writeErr, engine.ErrWriteClosed)
	}
	h.mu.Unlock()
	if n := e.Stats().Conns; n != 1 {
		t.Errorf("connections while the client's side is open: got %d, want 1", n)
	}

	if err := c.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	select {
	case err := <-h.closed:
		if err != io.EOF {
			t.Errorf("OnClose reason: got %v, want EOF (the peer closed)", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no OnClose after the client closed")
	}
	waitFor(t, 5*time.Second, "no connection left", func() bool { return e.Stats().Conns == 0 }, nil)
}
