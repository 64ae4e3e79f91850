package main

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"
)

// adminLine is the listening line, with the admin address when -admin is
// given.
var adminLine = regexp.MustCompile(`^pinion: listening on (127\.0\.0\.1:[0-9]+) \(([a-z]+), (loop|goroutine), ([0-9]+) loops\)(?:, admin (127\.0\.0\.1:[0-9]+))?$`)

// serverProc is a `pinion serve` process started by a test.
type serverProc struct {
	*proc
	addr  string // the listening address
	admin string // the admin address
}

// startServe runs bin serve with args plus -pin=false and -admin
// 127.0.0.1:0 (startServeFlags).
func startServe(t *testing.T, bin string, args ...string) *serverProc {
	t.Helper()
	return startServeFlags(t, bin, append([]string{"-pin=false", "-admin", "127.0.0.1:0"}, args...)...)
}

// startServeFlags runs bin serve -addr 127.0.0.1:0 with args and waits for
// its listening line. The process is killed (by PID) when the test ends if
// it still runs.
func startServeFlags(t *testing.T, bin string, args ...string) *serverProc {
	t.Helper()
	p := &serverProc{proc: startProc(t, bin, append([]string{"serve", "-addr", "127.0.0.1:0"}, args...)...)}
	line := p.firstLine(t, 20*time.Second)
	m := adminLine.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("first line %q does not match %s\nstderr: %s", line, adminLine, &p.stderr)
	}
	p.addr, p.admin = m[1], m[5]
	return p
}

// status returns the HTTP status of GET url, or 0 when nothing answered.
func status(url string) int {
	c := http.Client{Timeout: 5 * time.Second}
	r, err := c.Get(url)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, r.Body)
	r.Body.Close()
	return r.StatusCode
}

// TestReadinessThroughShutdown polls /readyz and /healthz while SIGTERM's
// graceful shutdown runs. A connection the test keeps open holds the drain
// (the server waits for its FIN): when that connection sees the server's
// FIN, the drain has started, so /readyz must already answer 503, and
// /healthz 200 since the process still serves. /readyz never answers 200
// again after its first 503, and /healthz stops answering only once the
// process has exited.
func TestReadinessThroughShutdown(t *testing.T) {
	p := startServe(t, buildPinion(t), "-loops", "2")
	base := "http://" + p.admin
	if got := status(base + "/readyz"); got != 200 {
		t.Fatalf("/readyz while serving: %d, want 200", got)
	}
	held, err := net.DialTimeout("tcp", p.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	_ = held.SetDeadline(time.Now().Add(20 * time.Second))
	if err := echoRoundTripOn(held, []byte("hold the drain\n")); err != nil {
		t.Fatal(err)
	}

	// Poll /readyz from the signal on, until the process has exited.
	var mu sync.Mutex
	var seen []int
	stop := make(chan struct{})
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		for {
			select {
			case <-stop:
				return
			default:
			}
			code := status(base + "/readyz")
			mu.Lock()
			seen = append(seen, code)
			mu.Unlock()
		}
	}()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM to pid %d: %v", p.cmd.Process.Pid, err)
	}
	if n, err := held.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("held connection after SIGTERM: %d, %v; want the drain's EOF", n, err)
	}
	if got := status(base + "/readyz"); got != 503 {
		t.Errorf("/readyz during the drain: %d, want 503", got)
	}
	if got := status(base + "/healthz"); got != 200 {
		t.Errorf("/healthz during the drain: %d, want 200", got)
	}
	held.Close() // lets the drain finish
	p.exitsCleanly(t, 20*time.Second)
	close(stop)
	<-polled
	if got := status(base + "/healthz"); got != 0 {
		t.Errorf("/healthz after exit: %d, want no answer", got)
	}
	mu.Lock()
	defer mu.Unlock()
	first503 := -1
	for i, code := range seen {
		if code == 503 && first503 < 0 {
			first503 = i
		}
		if first503 >= 0 && code == 200 {
			t.Fatalf("/readyz answered 200 after 503 (poll %d of %d): %v", i, len(seen), seen)
		}
	}
	if first503 < 0 {
		t.Errorf("the poller never saw 503 in %d polls: %v", len(seen), seen)
	}
	t.Logf("%d polls of /readyz after SIGTERM, the first 503 at poll %d", len(seen), first503)
}

// echoRoundTripOn writes msg on c and reads it back.
func echoRoundTripOn(c net.Conn, msg []byte) error {
	if _, err := c.Write(msg); err != nil {
		return err
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		return err
	}
	if !bytes.Equal(got, msg) {
		return errors.New("echo differs: " + string(got))
	}
	return nil
}
