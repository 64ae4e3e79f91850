package admin

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pinion-net/pinion/engine"
)

type echo struct{ engine.BaseHandler }

func (echo) OnData(c *engine.Conn) { _, _ = c.Write(c.Next(-1)) }

// put sends a limits change and returns the status and decoded answer.
func put(t *testing.T, base string, change url.Values) (int, map[string]string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, base+"/limits", strings.NewReader(change.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (int, map[string]string) {
	t.Helper()
	r, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer r.Body.Close()
	var m map[string]string
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	return r.StatusCode, m
}

func getLimits(t *testing.T, base string) map[string]string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/limits", nil)
	code, m := do(t, req)
	if code != 200 {
		t.Fatalf("GET /limits: %d %v", code, m)
	}
	return m
}

// roundTrip echoes msg on c.
func roundTrip(c net.Conn, msg string) error {
	if _, err := io.WriteString(c, msg); err != nil {
		return err
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		return err
	}
	if string(got) != msg {
		return errors.New("echo differs")
	}
	return nil
}

// refused reports whether a new connection to addr is closed by the
// server before it echoes anything.
func refused(t *testing.T, addr string) bool {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return true
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return roundTrip(c, "knock") != nil
}

// TestLimitsUnderLoad lowers max-conns below the connections open while
// they carry traffic: new connections are refused, the open ones keep
// being served. A malformed change is refused whole; raising the limit
// admits new connections again. slow-callback and log-level take effect.
func TestLimitsUnderLoad(t *testing.T) {
	e, err := engine.Start(echo{}, engine.Config{Addrs: []string{"127.0.0.1:0"}, Loops: 2, Pin: engine.PinOff, MaxConns: 100})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = e.Shutdown(ctx)
	})
	addr := e.Addrs()[0].String()
	level := new(slog.LevelVar)
	level.Set(slog.LevelWarn)
	s := startTest(t, Config{Metrics: e.WriteMetrics, Limits: EngineLimits(e, level)})
	base := "http://" + s.Addr()

	// Ten connections under load until the test ends.
	const open = 10
	var conns []net.Conn
	for range open {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(60 * time.Second))
		conns = append(conns, c)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var trips atomic.Int64
	errs := make(chan error, open)
	for _, c := range conns {
		wg.Go(func() {
			defer c.Close()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := roundTrip(c, "under load\n"); err != nil {
					errs <- err
					return
				}
				trips.Add(1)
			}
		})
	}
	defer func() {
		close(stop)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("an open connection failed: %v", err)
		}
	}()

	for deadline := time.Now().Add(10 * time.Second); e.Stats().Conns != open; {
		if time.Now().After(deadline) {
			t.Fatalf("the server holds %d connections, want %d", e.Stats().Conns, open)
		}
		time.Sleep(time.Millisecond) // polling the published stats
	}
	if code, m := put(t, base, url.Values{"max-conns": {"5"}}); code != 200 || m["max-conns"] != "5" {
		t.Fatalf("PUT max-conns=5: %d %v", code, m)
	}
	if !refused(t, addr) {
		t.Errorf("a new connection was served with %d open over max-conns 5", open)
	}
	before := trips.Load()
	waitTrips := func(what string) {
		deadline := time.Now().Add(10 * time.Second)
		for trips.Load() < before+2*open {
			if time.Now().After(deadline) {
				t.Fatalf("%s: the open connections stopped being served", what)
			}
			time.Sleep(time.Millisecond) // polling another goroutine's progress
		}
	}
	waitTrips("after lowering max-conns")

	// Malformed changes change nothing, not even their valid parts.
	want := getLimits(t, base)
	for _, bad := range []url.Values{
		{"max-conns": {"50"}, "idle-timeout": {"bogus"}},
		{"max-conns": {"0"}},
		{"offload-policy": {"drop"}, "log-level": {"debug"}},
		{"log-level": {"loud"}},
		{"max-connections": {"50"}},
		{"max-conns": {"50", "60"}},
		{},
	} {
		code, m := put(t, base, bad)
		if code != 400 || m["error"] == "" {
			t.Errorf("PUT %v: %d %v; want 400 and an error", bad, code, m)
		}
		if got := getLimits(t, base); !equal(got, want) {
			t.Errorf("after the refused %v: limits %v, want %v", bad, got, want)
		}
	}
	if level.Level() != slog.LevelWarn {
		t.Errorf("a refused change set the log level to %v", level.Level())
	}
	if !refused(t, addr) {
		t.Errorf("a new connection was served after a refused change to max-conns 50")
	}

	// Raising it again admits new connections.
	if code, m := put(t, base, url.Values{"max-conns": {"100"}, "log-level": {"debug"}, "slow-callback": {"1ns"}}); code != 200 || m["log-level"] != "debug" {
		t.Fatalf("PUT max-conns=100: %d %v", code, m)
	}
	if refused(t, addr) {
		t.Errorf("a new connection was refused after max-conns went back to 100")
	}
	if level.Level() != slog.LevelDebug {
		t.Errorf("log level %v, want debug", level.Level())
	}
	// Every callback is slow at 1ns.
	slow := e.Stats().SlowCallbacks
	before = trips.Load()
	waitTrips("after slow-callback=1ns")
	deadline := time.Now().Add(10 * time.Second)
	for e.Stats().SlowCallbacks < slow+uint64(open) {
		if time.Now().After(deadline) {
			t.Fatalf("slow callbacks %d, want more than %d after slow-callback=1ns", e.Stats().SlowCallbacks, slow+open)
		}
		time.Sleep(time.Millisecond)
	}
	if st := e.Stats(); st.Rejected != 2 {
		t.Errorf("rejected connections: %d, want the 2 refused", st.Rejected)
	}
}

func equal(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
