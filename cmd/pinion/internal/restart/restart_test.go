package restart

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// envChild selects what the re-executed test binary does as a child.
const envChild = "PINION_RESTART_TEST_CHILD"

func TestMain(m *testing.M) {
	if mode, ok := os.LookupEnv(envChild); ok {
		os.Exit(child(mode))
	}
	os.Exit(m.Run())
}

// child is the new process: "echo" serves an echo on the inherited
// listener named "echo" after saying it is ready; "exit" exits at once;
// "hang" never becomes ready.
func child(mode string) int {
	switch mode {
	case "exit":
		return 3
	case "hang":
		time.Sleep(time.Minute) // killed by the parent long before
		return 0
	}
	files, err := Inherited()
	if err != nil || len(files) != 2 || files[1].Name != "echo" {
		fmt.Fprintln(os.Stderr, "child: bad inheritance:", files, err)
		return 4
	}
	if os.Getenv(EnvFDs) != "" {
		fmt.Fprintln(os.Stderr, "child: protocol variable left set")
		return 5
	}
	ln, err := net.FileListener(files[1].File)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 6
	}
	if err := Ready(); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 7
	}
	// Serve two connections, then exit.
	for range 2 {
		c, err := ln.Accept()
		if err != nil {
			return 8
		}
		_, _ = io.Copy(c, c)
		c.Close()
	}
	return 0
}

func upgrader(t *testing.T, mode string) *Upgrader {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return &Upgrader{
		Path:         exe,
		Args:         []string{"-test.run=^$"},
		Env:          append(os.Environ(), envChild+"="+mode),
		ReadyTimeout: 20 * time.Second,
	}
}

func listenerFile(t *testing.T) (*net.TCPListener, *os.File) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close(); f.Close() })
	return ln.(*net.TCPListener), f
}

// A connection that reached the listener's queue before the handover, and
// was never accepted by the parent, is served by the child after the
// parent closed its copy of the socket.
func TestHandoverKeepsQueuedConnections(t *testing.T) {
	ln, f := listenerFile(t)
	_, other := listenerFile(t)
	queued, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer queued.Close()

	u := upgrader(t, "echo")
	p, err := u.Spawn(context.Background(), []File{{Name: "other", File: other}, {Name: "echo", File: f}})
	if err != nil {
		t.Fatalf("Spawn: %v", err)
	}
	defer p.Kill()
	ln.Close()
	f.Close()

	for i, c := range []net.Conn{queued, dial(t, ln.Addr().String())} {
		msg := fmt.Sprintf("hello %d\n", i)
		if _, err := io.WriteString(c, msg); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		got, err := bufio.NewReader(c).ReadString('\n')
		if err != nil || got != msg {
			t.Fatalf("connection %d: got %q, %v; want %q", i, got, err, msg)
		}
		c.Close()
	}
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSpawnChildExits(t *testing.T) {
	_, f := listenerFile(t)
	_, err := upgrader(t, "exit").Spawn(context.Background(), []File{{Name: "echo", File: f}})
	if !errors.Is(err, ErrNotReady) || !strings.Contains(err.Error(), "exit status 3") {
		t.Fatalf("Spawn of a child that exits: got %v, want ErrNotReady with its exit status", err)
	}
}

func TestSpawnTimeoutKillsChild(t *testing.T) {
	u := upgrader(t, "hang")
	u.ReadyTimeout = 200 * time.Millisecond
	start := time.Now()
	_, err := u.Spawn(context.Background(), nil)
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("got %v, want ErrTimeout and the child killed", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("Spawn took %v", d)
	}
}

func TestOneRestartAtATime(t *testing.T) {
	u := upgrader(t, "hang")
	u.ReadyTimeout = 30 * time.Second
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := u.Spawn(ctx, nil); done <- err }()
	for !u.busy.Load() {
		time.Sleep(time.Millisecond) // polling a state, not synchronising on time
	}
	if _, err := u.Spawn(context.Background(), nil); !errors.Is(err, ErrInProgress) {
		t.Fatalf("second Spawn: got %v, want ErrInProgress", err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("first Spawn after cancel: got %v, want context.Canceled", err)
	}
}

func TestBadName(t *testing.T) {
	_, f := listenerFile(t)
	_, err := upgrader(t, "echo").Spawn(context.Background(), []File{{Name: "a,b", File: f}})
	if err == nil || !strings.Contains(err.Error(), "bad descriptor name") {
		t.Fatalf("got %v", err)
	}
}

func TestNotAChild(t *testing.T) {
	if files, err := Inherited(); files != nil || err != nil {
		t.Fatalf("Inherited outside a restart: %v, %v", files, err)
	}
	if err := Ready(); err != nil {
		t.Fatalf("Ready outside a restart: %v", err)
	}
}
