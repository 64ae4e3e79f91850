package tcptest

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// TestEcho: every byte comes back in order, then EOF after the client's
// FIN.
func TestEcho(t *testing.T) {
	addr := Serve(t, Echo)
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	want := make([]byte, 1<<20)
	for i := range want {
		want[i] = byte(i * 7)
	}
	werr := make(chan error, 1)
	go func() {
		_, err := c.Write(want)
		if err == nil {
			err = c.(*net.TCPConn).CloseWrite()
		}
		werr <- err
	}()
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("read the echo: %v (got %d of %d bytes)", err, len(got), len(want))
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("echo: got %d bytes, want the %d sent, in order", len(got), len(want))
	}
	if err := <-werr; err != nil {
		t.Fatalf("write: %v", err)
	}
}

// TestServeCleanup: when the test ends, a handler blocked reading a
// connection the client keeps open is ended, Serve waits for it, and the
// port no longer accepts.
func TestServeCleanup(t *testing.T) {
	var addr string
	started, ended := make(chan struct{}, 1), make(chan error, 1)
	var client net.Conn
	t.Run("serve", func(t *testing.T) {
		addr = Serve(t, func(c net.Conn) {
			started <- struct{}{}
			_, err := c.Read(make([]byte, 1))
			ended <- err
		})
		var err error
		client, err = net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		select {
		case <-started:
		case <-time.After(10 * time.Second):
			t.Fatal("no handler started within 10s of the dial")
		}
	})
	defer client.Close()
	select {
	case err := <-ended:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("the blocked handler's read: got %v, want net.ErrClosed", err)
		}
	default:
		t.Fatal("Serve's cleanup returned before the blocked handler did")
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Errorf("dial %s after the cleanup: connected, want refused", addr)
	}
}

// TestServeHold: with a nil handle a connection is held open, unanswered,
// until the test ends, then closed.
func TestServeHold(t *testing.T) {
	var client net.Conn
	t.Run("serve", func(t *testing.T) {
		addr := Serve(t, nil)
		var err error
		client, err = net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := client.Write([]byte("anyone?")); err != nil {
			t.Fatal(err)
		}
		_ = client.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		if n, err := client.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("read from a held connection: got %d bytes, %v; want nothing until the deadline", n, err)
		}
	})
	defer client.Close()
	_ = client.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := client.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read after the test ended: got %v, want the connection closed (EOF or reset)", err)
	}
}

// TestHasSocket: a listener shows in state Listen on its local port until
// it closes.
func TestHasSocket(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	on, err := HasSocket(Listen, LocalPort, port)
	if err != nil {
		t.Skip(err)
	}
	if !on {
		t.Fatalf("port %d: no listening socket seen", port)
	}
	ln.Close()
	if on, _ := HasSocket(Listen, LocalPort, port); on {
		t.Fatalf("port %d: still listening after Close", port)
	}
}
