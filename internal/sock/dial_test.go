//go:build linux

package sock_test

import (
	"errors"
	"net"
	"path/filepath"
	"testing"

	"github.com/pinion-net/pinion/internal/sock"
	"golang.org/x/sys/unix"
)

func TestDialTCP(t *testing.T) {
	checkNoLeak(t)
	lfd, bound := listen(t, "127.0.0.1:0", false)
	fd, connected, err := sock.Dial(mustParse(t, bound.String()))
	if err != nil {
		t.Fatalf("Dial(%v): %v", bound, err)
	}
	closeFD(t, fd)
	checkFlags(t, fd)
	if !connected {
		waitFD(t, fd, unix.POLLOUT)
	}
	if err := sock.ConnectResult(fd); err != nil {
		t.Fatalf("ConnectResult: %v", err)
	}
	if got := sock.PeerAddr(fd); got.String() != bound.String() {
		t.Errorf("PeerAddr(dialed) = %v, want %v", got, bound)
	}
	afd := acceptOne(t, lfd)
	if got, want := sock.PeerAddr(afd), sock.LocalAddr(fd); got.String() != want.String() {
		t.Errorf("PeerAddr(accepted) = %v, want the dialer's %v", got, want)
	}
	if err := sock.SetNoDelay(fd, true); err != nil {
		t.Errorf("SetNoDelay(tcp, true): %v", err)
	}
	if v, err := unix.GetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY); err != nil || v == 0 {
		t.Errorf("TCP_NODELAY after SetNoDelay(true): got %d, %v; want set", v, err)
	}
	if err := sock.SetNoDelay(fd, false); err != nil {
		t.Errorf("SetNoDelay(tcp, false): %v", err)
	}
	if v, err := unix.GetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY); err != nil || v != 0 {
		t.Errorf("TCP_NODELAY after SetNoDelay(false): got %d, %v; want 0", v, err)
	}
}

func TestDialRefused(t *testing.T) {
	checkNoLeak(t)
	// Find a free port by binding one and closing it again.
	lfd, bound, err := sock.Listen(mustParse(t, "127.0.0.1:0"), false, 0)
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(lfd)

	fd, connected, err := sock.Dial(mustParse(t, bound.String()))
	if err != nil {
		if !errors.Is(err, unix.ECONNREFUSED) {
			t.Fatalf("Dial(%v): got %v, want ECONNREFUSED", bound, err)
		}
		if fd != -1 {
			t.Errorf("failed Dial returned fd %d, want -1", fd)
		}
		return
	}
	closeFD(t, fd)
	if connected {
		t.Fatalf("Dial(%v) to a closed port reports connected", bound)
	}
	waitFD(t, fd, unix.POLLOUT)
	if err := sock.ConnectResult(fd); !errors.Is(err, unix.ECONNREFUSED) {
		t.Fatalf("ConnectResult: got %v, want ECONNREFUSED", err)
	}
}

func TestDialUnix(t *testing.T) {
	checkNoLeak(t)
	path := filepath.Join(t.TempDir(), "d.sock")
	lfd, _ := listen(t, "unix://"+path, false)
	fd, connected, err := sock.Dial(mustParse(t, "unix://"+path))
	if err != nil {
		t.Fatalf("Dial(unix %s): %v", path, err)
	}
	closeFD(t, fd)
	checkFlags(t, fd)
	if !connected {
		waitFD(t, fd, unix.POLLOUT)
	}
	if err := sock.ConnectResult(fd); err != nil {
		t.Fatalf("ConnectResult: %v", err)
	}
	afd := acceptOne(t, lfd)
	if sock.IsTCP(fd) || sock.IsTCP(afd) {
		t.Errorf("IsTCP(unix) = true, want false")
	}
	if err := sock.SetNoDelay(afd, true); err != nil {
		t.Errorf("SetNoDelay(unix): got %v, want nil", err)
	}
	if got := sock.PeerAddr(fd); got == nil || got.String() != path {
		t.Errorf("PeerAddr(dialed) = %v, want %s", got, path)
	}
}

func TestDialMissingUnixSocket(t *testing.T) {
	checkNoLeak(t)
	a := mustParse(t, "unix://"+filepath.Join(t.TempDir(), "none.sock"))
	fd, _, err := sock.Dial(a)
	if !errors.Is(err, unix.ENOENT) || fd != -1 {
		t.Fatalf("Dial(%v) = %d, %v; want -1 and ENOENT", a, fd, err)
	}
}

func TestSetNoDelayBadFD(t *testing.T) {
	if err := sock.SetNoDelay(-1, true); !errors.Is(err, unix.EBADF) {
		t.Errorf("SetNoDelay(-1): got %v, want EBADF", err)
	}
	if sock.IsTCP(-1) || sock.LocalAddr(-1) != nil || sock.PeerAddr(-1) != nil {
		t.Errorf("IsTCP/LocalAddr/PeerAddr(-1): want false/nil/nil")
	}
}

// TestDialNet checks the dialed socket against a listener from package net.
func TestDialNet(t *testing.T) {
	checkNoLeak(t)
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	fd, connected, err := sock.Dial(mustParse(t, ln.Addr().String()))
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	closeFD(t, fd)
	if !connected {
		waitFD(t, fd, unix.POLLOUT)
	}
	if err := sock.ConnectResult(fd); err != nil {
		t.Fatalf("ConnectResult: %v", err)
	}
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := unix.Write(fd, []byte("ping")); err != nil {
		t.Fatalf("write: %v", err)
	}
	buf := make([]byte, 4)
	if n, err := c.Read(buf); err != nil || string(buf[:n]) != "ping" {
		t.Errorf("peer read: got %q, %v; want \"ping\"", buf[:n], err)
	}
}
