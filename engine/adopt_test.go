//go:build unix

package engine_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pinion-net/pinion/engine"
)

// adoptHelperEnv makes the test binary run TestAdoptHelper as the service
// that systemd starts with sockets (see TestAdoptSystemdSockets).
const adoptHelperEnv = "PINION_ADOPT_HELPER"

// echoBig sends msg on c from a goroutine while it reads the echo, and
// checks every byte, within 20 seconds.
func echoBig(c net.Conn, msg []byte) error {
	if err := c.SetDeadline(time.Now().Add(20 * time.Second)); err != nil {
		return err
	}
	werr := make(chan error, 1)
	go func() {
		_, err := c.Write(msg)
		werr <- err
	}()
	got := make([]byte, len(msg))
	_, rerr := io.ReadFull(c, got)
	if err := <-werr; err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if rerr != nil {
		return fmt.Errorf("read echo: %w", rerr)
	}
	for i := range got {
		if got[i] != msg[i] {
			return fmt.Errorf("echo differs from byte %d on (got %#x, want %#x)", i, got[i], msg[i])
		}
	}
	return nil
}

// listenerFile returns a duplicate of l's socket as a file, and closes l
// (the socket lives on in the file).
func listenerFile(t *testing.T, l net.Listener) *os.File {
	t.Helper()
	if ul, ok := l.(*net.UnixListener); ok {
		ul.SetUnlinkOnClose(false)
	}
	f, err := l.(interface{ File() (*os.File, error) }).File()
	if err != nil {
		t.Fatalf("File of %v: %v", l.Addr(), err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("close %v: %v", l.Addr(), err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f
}

// TestAdoptSystemdSockets passes listening sockets to another process the
// way systemd's socket activation does (the sockets as fds 3 and 4,
// LISTEN_FDS, LISTEN_FDNAMES and LISTEN_PID naming the service's own pid),
// and checks that an engine in that process serves on them: 1 MiB of
// random bytes come back intact over TCP and over a unix socket. The
// parent closes its copies once the child runs, so only the child can
// accept.
func TestAdoptSystemdSockets(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skipf("no sh to set LISTEN_PID to the child's pid: %v", err)
	}
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "s.sock")
	ul, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	addrs := []net.Addr{tl.Addr(), ul.Addr()}
	files := []*os.File{listenerFile(t, tl), listenerFile(t, ul)}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// sh sets LISTEN_PID to its own pid, which exec keeps: systemd sets
	// it between fork and exec.
	cmd := exec.CommandContext(ctx, sh, "-c", `LISTEN_PID=$$ exec "$0" "$@"`,
		os.Args[0], "-test.run=^TestAdoptHelper$", "-test.v")
	cmd.Env = append(os.Environ(), adoptHelperEnv+"=1", "LISTEN_FDS=2", "LISTEN_FDNAMES=web:local")
	cmd.ExtraFiles = files
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the service: %v", err)
	}
	for _, f := range files {
		_ = f.Close()
	}
	out := bufio.NewScanner(stdout)
	var ready string
	for out.Scan() {
		if s, ok := strings.CutPrefix(out.Text(), "ready "); ok {
			ready = s
			break
		}
		t.Logf("service: %s", out.Text())
	}
	if ready == "" {
		_ = stdin.Close()
		t.Fatalf("the service exited before it was ready: %v", cmd.Wait())
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	if want := addrs[0].String() + " " + addrs[1].String(); ready != want {
		t.Errorf("the service listens on %q, want %q", ready, want)
	}

	msg := make([]byte, 1<<20)
	_, _ = rand.Read(msg)
	for _, a := range addrs {
		c, err := net.DialTimeout(a.Network(), a.String(), 5*time.Second)
		if err != nil {
			t.Fatalf("dial %v: %v", a, err)
		}
		if err := echoBig(c, msg); err != nil {
			t.Errorf("echo over %v: %v", a, err)
		}
		_ = c.Close()
	}
	_ = stdin.Close() // the service shuts down
	if err := cmd.Wait(); err != nil {
		t.Errorf("service: %v", err)
	}
}

// TestAdoptHelper is the service of TestAdoptSystemdSockets; it does
// nothing in a normal run. It serves echo on the sockets systemd passed,
// prints "ready" and their addresses, and shuts down when stdin closes.
func TestAdoptHelper(t *testing.T) {
	if os.Getenv(adoptHelperEnv) == "" {
		t.Skip("runs only as the service of TestAdoptSystemdSockets")
	}
	ls, err := engine.SystemdListeners()
	if err != nil {
		t.Fatalf("SystemdListeners: %v", err)
	}
	if len(ls) != 2 || ls[0].File.Name() != "web" || ls[1].File.Name() != "local" {
		t.Fatalf("SystemdListeners: got %d sockets %v, want web and local", len(ls), ls)
	}
	cfg := testConfig()
	cfg.Addrs, cfg.Listeners, cfg.Loops = nil, ls, 2
	e, err := engine.Start(&echoHandler{}, cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	for _, l := range ls {
		_ = l.File.Close() // the engine serves on its own duplicates
	}
	var as []string
	for _, a := range e.Addrs() {
		as = append(as, a.String())
	}
	fmt.Printf("ready %s\n", strings.Join(as, " "))
	_, _ = io.Copy(io.Discard, os.Stdin)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

// TestAdoptRejects checks that Start refuses a Config.Listeners entry that
// is not a listening stream socket, with an error that names the fd and
// what is wrong, and leaks no descriptor doing so.
func TestAdoptRejects(t *testing.T) {
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tl.Close()
	conn, err := net.Dial("tcp", tl.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	fileOf := func(c interface{ File() (*os.File, error) }) *os.File {
		f, err := c.File()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = f.Close() })
		return f
	}
	regular, err := os.CreateTemp(t.TempDir(), "not-a-socket")
	if err != nil {
		t.Fatal(err)
	}
	defer regular.Close()

	tests := []struct {
		name string
		file *os.File
		want string
	}{
		{"a regular file", regular, "not a socket"},
		{"a connected TCP socket", fileOf(conn.(*net.TCPConn)), "not listening (SO_ACCEPTCONN is 0"},
		{"a UDP socket", fileOf(udp.(*net.UDPConn)), "socket type is SOCK_DGRAM, want SOCK_STREAM"},
		{"a bound TCP socket that does not listen", boundNotListening(t), "not listening (SO_ACCEPTCONN is 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := openFDs(t)
			cfg := testConfig()
			cfg.Listeners = []engine.Listener{{File: tt.file}}
			e, err := engine.Start(&echoHandler{}, cfg)
			if err == nil {
				_ = e.Shutdown(context.Background())
				t.Fatalf("Start: got no error, want one saying %q", tt.want)
			}
			t.Logf("Start: %v", err)
			fd := fmt.Sprintf("fd %d", tt.file.Fd())
			if !errors.Is(err, engine.ErrNotListener) || !strings.Contains(err.Error(), fd) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Start: got %q, want ErrNotListener naming %q and saying %q", err, fd, tt.want)
			}
			if after := openFDs(t); after != before {
				t.Errorf("open fds: %d before Start, %d after its failure", before, after)
			}
		})
	}
	cfg := testConfig()
	cfg.Listeners = []engine.Listener{{}}
	if _, err := engine.Start(&echoHandler{}, cfg); err == nil || !strings.Contains(err.Error(), "Listeners[0] has no File") {
		t.Errorf("Start with a Listener without File: got %v", err)
	}
}

// boundNotListening returns a TCP socket bound to a loopback port on
// which listen(2) was never called.
func boundNotListening(t *testing.T) *os.File {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatalf("socket: %v", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		_ = unix.Close(fd)
		t.Fatalf("bind: %v", err)
	}
	f := os.NewFile(uintptr(fd), "bound")
	t.Cleanup(func() { _ = f.Close() })
	return f
}
