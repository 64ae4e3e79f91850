package load

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pinion-net/pinion/internal/tcptest"
)

// runLoadCmd runs "pinion load" in-process and returns its exit status and
// outputs.
func runLoadCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func decodeResult(t *testing.T, stdout string) (Result, map[string]any) {
	t.Helper()
	var r Result
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("decode JSON report: %v\n%s", err, stdout)
	}
	var fields map[string]any
	if err := json.Unmarshal([]byte(stdout), &fields); err != nil {
		t.Fatalf("decode JSON report as a map: %v", err)
	}
	return r, fields
}

// TestLoadEcho runs a short load against both server models and checks the

// startCorruptEcho serves an echo that flips every bit of the byte at
// offset corruptAt of each connection's stream.
func startCorruptEcho(t *testing.T, corruptAt int) string {
	t.Helper()
	return tcptest.Serve(t, func(c net.Conn) {
		buf := make([]byte, 4096)
		off := 0
		for {
			n, err := c.Read(buf)
			if i := corruptAt - off; i >= 0 && i < n {
				buf[i] ^= 0xff
			}
			off += n
			if _, werr := c.Write(buf[:n]); werr != nil || err != nil {
				return
			}
		}
	})
}

func TestLoadDetectsCorruption(t *testing.T) {
	addr := startCorruptEcho(t, 1000)
	code, stdout, stderr := runLoadCmd(t, "-addr", addr, "-conns", "3", "-pipeline", "4",
		"-warmup", "0s", "-duration", "300ms", "-json")
	if code != 1 {
		t.Errorf("exit status %d, want 1\nstderr: %s", code, stderr)
	}
	r, _ := decodeResult(t, stdout)
	if r.VerifyErrors != 3 {
		t.Errorf("verify_errors = %d, want 3 (one per connection)", r.VerifyErrors)
	}
	if !strings.HasPrefix(r.FirstError, "echo verification failed: ") || !strings.Contains(r.FirstError, "byte 1000 of the stream") {
		t.Errorf("first_error = %q, want it to name echo and byte 1000 of the stream", r.FirstError)
	}
	if !strings.Contains(stderr, "verification errors") {
		t.Errorf("stderr does not report the verification errors:\n%s", stderr)
	}
}

// TestLoadBounded checks that a server that never answers cannot hold a
// run past its window and drain.
func TestLoadBounded(t *testing.T) {
	addr := tcptest.Serve(t, nil) // accepts, never answers
	start := time.Now()
	code, stdout, stderr := runLoadCmd(t, "-addr", addr, "-conns", "5",
		"-warmup", "100ms", "-duration", "200ms", "-timeout", "300ms", "-json")
	took := time.Since(start)
	if code != 1 {
		t.Errorf("exit status %d, want 1 (nothing measured)\nstderr: %s", code, stderr)
	}
	if limit := 100*time.Millisecond + 200*time.Millisecond + 300*time.Millisecond + 400*time.Millisecond; took > limit {
		t.Errorf("run took %v, want under %v", took, limit)
	}
	r, _ := decodeResult(t, stdout)
	if r.Timeouts != 5 || r.Requests != 0 {
		t.Errorf("timeouts %d, requests %d; want 5 and 0", r.Timeouts, r.Requests)
	}
}

func TestLoadConnectFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	code, _, stderr := runLoadCmd(t, "-addr", addr, "-conns", "2", "-duration", "100ms", "-timeout", "1s")
	if code != 1 || !strings.Contains(stderr, "no connection") {
		t.Errorf("exit status %d, stderr %q; want 1 and \"no connection\"", code, stderr)
	}
}

func TestLoadIdleFailsWhole(t *testing.T) {
	addr := startCorruptEcho(t, 10)
	cfg, err := parseLoad([]string{"-idle", "-addr", addr, "-conns", "3"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if c := loadIdle(cfg, &stdout, &stderr, nil); c != 1 {
		t.Errorf("exit status %d, want 1", c)
	}
	if stdout.Len() != 0 || !strings.Contains(stderr.String(), "3 of 3 idle connections failed") {
		t.Errorf("stdout %q, stderr %q; want nothing and the failure", stdout.String(), stderr.String())
	}
}

func TestParseLoadRejects(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-conns", "0"}, "-conns"},
		{[]string{"-pipeline", "0"}, "-pipeline"},
		{[]string{"-size", "0"}, "-size"},
		{[]string{"-size", "100000000"}, "-size must be at most"},
		{[]string{"-duration", "0s"}, "-duration"},
		{[]string{"-warmup", "-1s"}, "-warmup"},
		{[]string{"-timeout", "0s"}, "-timeout"},
		{[]string{"-proto", "smtp"}, "unknown protocol \"smtp\" (want echo, http or resp)"},
		{[]string{"-status", "99"}, "-status"},
		{[]string{"-status", "600"}, "-status"},
		{[]string{"-op", "del"}, "-op"},
		{[]string{"-proto", "http", "-path", "plaintext"}, "-path"},
		{[]string{"-proto", "http", "-path", "/a b"}, "-path"},
		{[]string{"-addr", "nowhere"}, "-addr"},
		{[]string{"extra"}, "unexpected arguments"},
	} {
		_, err := parseLoad(tc.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseLoad(%q) = %v, want an error about %s", tc.args, err, tc.want)
		}
	}
	if code, _, _ := runLoadCmd(t, "-conns", "0"); code != 2 {
		t.Errorf("exit status %d for a bad flag, want 2", code)
	}
}

func TestSourceAddrs(t *testing.T) {
	for _, tc := range []struct {
		addr  string
		conns int
		want  int
	}{
		{"127.0.0.1:9000", spreadFrom, spreadLast - 1},
		{"127.0.0.1:9000", spreadFrom - 1, 0},
		{"127.0.0.2:9000", 10000, 0},
		{"[::1]:9000", 10000, 0},
		{"localhost:9000", 10000, 0},
	} {
		src := sourceAddrs(tc.addr, tc.conns)
		if len(src) != tc.want {
			t.Errorf("sourceAddrs(%s, %d) gives %d addresses, want %d", tc.addr, tc.conns, len(src), tc.want)
		}
		for i, a := range src {
			if want := fmt.Sprintf("127.0.0.%d:0", i+2); a.String() != want {
				t.Errorf("source %d = %v, want %s", i, a, want)
			}
		}
	}
}

// TestEchoSession checks the echo stream on its own: flow control holds
// the writer at loadAhead, responses split anywhere verify, and one wrong
// byte or one byte too many is caught.
func TestEchoSession(t *testing.T) {
	p := newEchoLoad(1000)
	s := p.session(7)
	s.begin(100) // 100,000 bytes: more than loadAhead
	var sent []byte
	for b := s.next(); b != nil; b = s.next() {
		sent = append(sent, b...)
	}
	if len(sent) != loadAhead {
		t.Fatalf("wrote %d bytes before reading, want loadAhead = %d", len(sent), loadAhead)
	}
	done := 0
	for i := 0; i < len(sent); i += 777 {
		used, k, err := s.check(sent[i:min(i+777, len(sent))])
		if err != nil || used != min(777, len(sent)-i) {
			t.Fatalf("check at %d: used %d, err %v", i, used, err)
		}
		done += k
	}
	if done != loadAhead/1000 {
		t.Errorf("%d responses done, want %d", done, loadAhead/1000)
	}
	b := s.next()
	if len(b) != 100_000-loadAhead {
		t.Fatalf("next after reading gave %d bytes, want the rest, %d", len(b), 100_000-loadAhead)
	}
	bad := append([]byte(nil), b...)
	bad[5] ^= 1
	if _, _, err := s.check(bad); !errors.Is(err, errVerify) {
		t.Errorf("check of a flipped byte = %v, want errVerify", err)
	}
	if _, _, err := p.session(8).check([]byte{1}); !errors.Is(err, errVerify) {
		t.Errorf("check of an unrequested byte = %v, want errVerify", err)
	}
	if a, b := p.session(1), p.session(2); bytes.Equal(first(a, 64), first(b, 64)) {
		t.Error("two connections send the same bytes")
	}
}

func first(s loadSession, n int) []byte {
	s.begin(1)
	return s.next()[:n]
}

// TestLoadConnAllocs checks that a batch, verification and latency
// recording included, allocates nothing.
func TestLoadConnAllocs(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 4096)
		for {
			n, err := c.Read(buf)
			if _, werr := c.Write(buf[:n]); werr != nil || err != nil {
				return
			}
		}
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	now := time.Now()
	win := &runWindow{start: now, end: now.Add(time.Hour), hard: now.Add(time.Hour), timeout: time.Hour}
	lc := newLoadConn(c, newEchoLoad(64), 0, 16, win)
	var batchErr error
	allocs := testing.AllocsPerRun(200, func() {
		if err := lc.batch(time.Now(), 16); err != nil {
			batchErr = err
		}
	})
	if batchErr != nil {
		t.Fatal(batchErr)
	}
	if allocs != 0 {
		t.Errorf("a batch allocates %v times, want 0", allocs)
	}
	if lc.requests != 201*16 {
		t.Errorf("counted %d requests, want %d", lc.requests, 201*16)
	}
}
