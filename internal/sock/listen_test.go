//go:build linux

package sock_test

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/pinion-net/pinion/internal/sock"
	"golang.org/x/sys/unix"
)

func TestListenTCP4(t *testing.T) {
	checkNoLeak(t)
	lfd, bound := listen(t, "tcp4://127.0.0.1:0", false)
	checkFlags(t, lfd)
	ta, ok := bound.(*net.TCPAddr)
	if !ok {
		t.Fatalf("bound address: got %T, want *net.TCPAddr", bound)
	}
	if ta.Port == 0 || !ta.IP.Equal(net.IPv4(127, 0, 0, 1)) {
		t.Fatalf("bound address: got %v, want 127.0.0.1 with a real port", ta)
	}
	if v, err := unix.GetsockoptInt(lfd, unix.SOL_SOCKET, unix.SO_REUSEADDR); err != nil || v == 0 {
		t.Errorf("SO_REUSEADDR: got %d, %v; want it set", v, err)
	}

	c, err := net.Dial("tcp4", bound.String())
	if err != nil {
		t.Fatalf("net.Dial(%v): %v", bound, err)
	}
	defer c.Close()
	fd := acceptOne(t, lfd)
	checkFlags(t, fd)

	if got := sock.LocalAddr(fd); got.String() != bound.String() {
		t.Errorf("LocalAddr(accepted) = %v, want %v", got, bound)
	}
	if got, want := sock.PeerAddr(fd), c.LocalAddr(); got.String() != want.String() {
		t.Errorf("PeerAddr(accepted) = %v, want the client's %v", got, want)
	}
	if got := sock.LocalAddr(lfd); got.String() != bound.String() {
		t.Errorf("LocalAddr(listener) = %v, want %v", got, bound)
	}
	if got := sock.PeerAddr(lfd); got != nil {
		t.Errorf("PeerAddr(listener) = %v, want nil", got)
	}
	if !sock.IsTCP(fd) || !sock.IsTCP(lfd) {
		t.Errorf("IsTCP: got false for a TCP socket")
	}
}

func TestListenReusePort(t *testing.T) {
	checkNoLeak(t)
	_, bound := listen(t, "127.0.0.1:0", true)
	port := strconv.Itoa(bound.(*net.TCPAddr).Port)
	listen(t, "127.0.0.1:"+port, true)

	_, bound = listen(t, "127.0.0.1:0", false)
	a := mustParse(t, "127.0.0.1:"+strconv.Itoa(bound.(*net.TCPAddr).Port))
	fd, _, err := sock.Listen(a, false, 0)
	if err == nil {
		unix.Close(fd)
		t.Fatalf("second Listen(%v) without reusePort succeeded, want EADDRINUSE", a)
	}
	if !errors.Is(err, unix.EADDRINUSE) {
		t.Fatalf("second Listen(%v) without reusePort: got %v, want EADDRINUSE", a, err)
	}
	if fd != -1 {
		t.Errorf("failed Listen returned fd %d, want -1", fd)
	}
}

func TestListenTCP6(t *testing.T) {
	checkNoLeak(t)
	lfd, bound, err := sock.Listen(mustParse(t, "tcp6://[::1]:0"), false, 16)
	if errors.Is(err, unix.EADDRNOTAVAIL) || errors.Is(err, unix.EAFNOSUPPORT) {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	closeFD(t, lfd)
	if ta, ok := bound.(*net.TCPAddr); !ok || ta.Port == 0 || !ta.IP.Equal(net.IPv6loopback) {
		t.Fatalf("bound address: got %v, want [::1] with a real port", bound)
	}
	if v, err := unix.GetsockoptInt(lfd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY); err != nil || v != 1 {
		t.Errorf("IPV6_V6ONLY: got %d, %v; want 1", v, err)
	}
	c, err := net.Dial("tcp6", bound.String())
	if err != nil {
		t.Fatalf("net.Dial(%v): %v", bound, err)
	}
	defer c.Close()
	fd := acceptOne(t, lfd)
	if got, want := sock.PeerAddr(fd), c.LocalAddr(); got.String() != want.String() {
		t.Errorf("PeerAddr = %v, want %v", got, want)
	}
}

func TestListenUnix(t *testing.T) {
	checkNoLeak(t)
	path := filepath.Join(t.TempDir(), "s.sock")
	a := mustParse(t, "unix://"+path)

	// A listener closed without removing its file leaves a stale socket.
	fd, _, err := sock.Listen(a, false, 0)
	if err != nil {
		t.Fatalf("Listen(%v): %v", a, err)
	}
	unix.Close(fd)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("socket file after close: %v", err)
	}

	lfd, bound := listen(t, a.String(), false)
	checkFlags(t, lfd)
	if ua, ok := bound.(*net.UnixAddr); !ok || ua.Name != path {
		t.Fatalf("bound address: got %#v, want unix %s", bound, path)
	}
	if sock.IsTCP(lfd) {
		t.Errorf("IsTCP(unix listener) = true, want false")
	}
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatalf("net.Dial(unix, %s): %v", path, err)
	}
	defer c.Close()
	fd = acceptOne(t, lfd)
	checkFlags(t, fd)
	if got := sock.LocalAddr(fd); got == nil || got.String() != path {
		t.Errorf("LocalAddr(accepted) = %v, want %s", got, path)
	}
}

func TestListenUnixKeepsRegularFile(t *testing.T) {
	checkNoLeak(t)
	path := filepath.Join(t.TempDir(), "not-a-socket")
	if err := os.WriteFile(path, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	fd, _, err := sock.Listen(mustParse(t, "unix://"+path), false, 0)
	if err == nil {
		unix.Close(fd)
		t.Fatalf("Listen on a regular file succeeded, want EADDRINUSE")
	}
	if !errors.Is(err, unix.EADDRINUSE) {
		t.Errorf("Listen on a regular file: got %v, want EADDRINUSE", err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "keep" {
		t.Errorf("regular file after Listen: got %q, %v; want it untouched", b, err)
	}
}

func TestListenErrorNamesAddress(t *testing.T) {
	a := sock.Addr{Network: "udp", Address: "127.0.0.1:53"}
	_, _, err := sock.Listen(a, false, 0)
	if err == nil || err.Error() != `sock: listen udp://127.0.0.1:53: unsupported network "udp" (want tcp4, tcp6 or unix)` {
		t.Errorf("Listen(%v): got %v, want an unsupported network error", a, err)
	}
}
