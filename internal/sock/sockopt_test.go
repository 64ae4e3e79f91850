//go:build linux

package sock_test

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/pinion-net/pinion/internal/sock"
	"golang.org/x/sys/unix"
)

// acceptedPair returns a client from package net and the fd the server side
// accepted for it. The fd is not closed at cleanup; the caller owns it.
func acceptedPair(t *testing.T) (net.Conn, int) {
	t.Helper()
	lfd, bound := listen(t, "127.0.0.1:0", false)
	c, err := net.Dial("tcp4", bound.String())
	if err != nil {
		t.Fatalf("net.Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	waitFD(t, lfd, unix.POLLIN)
	fd, err := sock.Accept(lfd)
	if err != nil {
		t.Fatalf("Accept: %v", err)
	}
	if err := c.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	return c, fd
}

func TestSetLinger0(t *testing.T) {
	checkNoLeak(t)
	c, fd := acceptedPair(t)
	if err := sock.SetLinger0(fd); err != nil {
		unix.Close(fd)
		t.Fatalf("SetLinger0: %v", err)
	}
	if err := unix.Close(fd); err != nil {
		t.Fatalf("close: %v", err)
	}
	_, err := c.Read(make([]byte, 1))
	if !errors.Is(err, unix.ECONNRESET) {
		t.Fatalf("peer read after SetLinger0 and close: got %v, want ECONNRESET", err)
	}
}

func TestShutdownWrite(t *testing.T) {
	checkNoLeak(t)
	c, fd := acceptedPair(t)
	closeFD(t, fd)
	if _, err := unix.Write(fd, []byte("bye")); err != nil {
		t.Fatalf("write: %v", err)
	}
	if err := sock.ShutdownWrite(fd); err != nil {
		t.Fatalf("ShutdownWrite: %v", err)
	}
	b, err := io.ReadAll(c)
	if err != nil || string(b) != "bye" {
		t.Fatalf("peer read to EOF: got %q, %v; want \"bye\" then EOF", b, err)
	}
	// The read side is still open.
	if _, err := c.Write([]byte("ok")); err != nil {
		t.Fatalf("peer write: %v", err)
	}
	waitFD(t, fd, unix.POLLIN)
	buf := make([]byte, 2)
	if n, err := unix.Read(fd, buf); err != nil || string(buf[:n]) != "ok" {
		t.Errorf("read after ShutdownWrite: got %q, %v; want \"ok\"", buf[:n], err)
	}
}

func TestSockoptErrors(t *testing.T) {
	if err := sock.SetLinger0(-1); !errors.Is(err, unix.EBADF) {
		t.Errorf("SetLinger0(-1): got %v, want EBADF", err)
	}
	if err := sock.ShutdownWrite(-1); !errors.Is(err, unix.EBADF) {
		t.Errorf("ShutdownWrite(-1): got %v, want EBADF", err)
	}
	if err := sock.ConnectResult(-1); !errors.Is(err, unix.EBADF) {
		t.Errorf("ConnectResult(-1): got %v, want EBADF", err)
	}
}
