package cref_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pinion-net/pinion/bench/internal/cref"
)

// listening is the line cserve prints once every listener is up; the
// benchmark scripts depend on its form.
var listening = regexp.MustCompile(`^cserve: listening on (127\.0\.0\.1:[0-9]+) \((echo|http), c, ([0-9]+) threads\)$`)

// TestCServe builds cserve once and runs each scenario against a server of
// its own, started with two threads on an ephemeral loopback port.
func TestCServe(t *testing.T) {
	bin := build(t)
	t.Run("flags", func(t *testing.T) { testFlags(t, bin) })
	t.Run("echo", func(t *testing.T) { testEcho(t, bin) })
	t.Run("no reader", func(t *testing.T) { testNoReader(t, bin) })
	t.Run("max conns", func(t *testing.T) { testMaxConns(t, bin) })
	t.Run("http", func(t *testing.T) { testHTTP(t, bin) })
	t.Run("signals", func(t *testing.T) { testSignals(t, bin) })
}

// build compiles cserve into a temporary directory. Without a C compiler
// it skips, unless $CI is set.
func build(t *testing.T) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("cserve needs Linux (epoll, signalfd)")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	bin, err := cref.Build(root, t.TempDir())
	if errors.Is(err, cref.ErrNoCompiler) && os.Getenv("CI") == "" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// A server is a running cserve.
type server struct {
	cmd    *exec.Cmd
	addr   string
	stderr bytes.Buffer
	exited chan struct{} // closed once the process is gone; err is then its status
	err    error
}

// start runs bin with "-addr 127.0.0.1:0 -threads 2" and then args, and
// waits up to 10 s for its listening line. The process is killed, if still
// running, when the test ends.
func start(t *testing.T, bin string, args ...string) *server {
	t.Helper()
	s := &server{exited: make(chan struct{})}
	s.cmd = exec.Command(bin, append([]string{"-addr", "127.0.0.1:0", "-threads", "2"}, args...)...)
	s.cmd.Stderr = &s.stderr
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		_, _ = io.Copy(io.Discard, stdout) // Wait closes the pipe only after this
		s.err = s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-s.exited:
		default:
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	})
	select {
	case line, ok := <-lines:
		m := listening.FindStringSubmatch(line)
		if !ok || m == nil {
			t.Fatalf("first line %q does not match %s%s", line, listening, s.stderrAfterExit())
		}
		s.addr = m[1]
	case <-time.After(10 * time.Second):
		t.Fatal("no listening line after 10s")
	}
	return s
}

// stderrAfterExit returns the server's standard error once it has exited
// (reading it earlier would race with exec's copy), or "" after 5 s.
func (s *server) stderrAfterExit() string {
	select {
	case <-s.exited:
		return fmt.Sprintf("\nexit: %v\nstderr: %s", s.err, &s.stderr)
	case <-time.After(5 * time.Second):
		return ""
	}
}

// checkRunning fails the test if the server has exited.
func (s *server) checkRunning(t *testing.T) {
	t.Helper()
	select {
	case <-s.exited:
		t.Fatalf("cserve exited: %v\nstderr: %s", s.err, &s.stderr)
	default:
	}
}

// dial connects to addr with a 20 s deadline on everything after.
func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.SetDeadline(time.Now().Add(20 * time.Second)); err != nil {
		t.Fatal(err)
	}
	return c
}

// random returns n pseudo-random bytes drawn from seed.
func random(seed uint64, n int) []byte {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	b := make([]byte, n)
	_, _ = rand.NewChaCha8(key).Read(b)
	return b
}

// checkSame fails the test at the first byte where got and want differ.
func checkSame(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if bytes.Equal(got, want) {
		return
	}
	i := 0
	for i < min(len(got), len(want)) && got[i] == want[i] {
		i++
	}
	t.Fatalf("%s: %d bytes, first difference at byte %d; want %d bytes", what, len(got), i, len(want))
}

// echoOnce checks that a new connection to addr echoes one message.
func echoOnce(t *testing.T, addr string) {
	t.Helper()
	c := dial(t, addr)
	msg := []byte("still there?")
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("echo read: %v", err)
	}
	checkSame(t, "echo", got, msg)
}

// testFlags checks that bad command lines exit with status 2 and a message.
func testFlags(t *testing.T, bin string) {
	for _, args := range [][]string{
		{"-bogus", "1"}, {"-threads", "0"}, {"-threads", "x"}, {"-proto", "gopher"},
		{"-addr", "localhost"}, {"-addr", "[::1]:80"}, {"-addr", "127.0.0.1:65536"}, {"-max-conns", "0"}, {"-addr"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
		cancel()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 || !bytes.HasPrefix(out, []byte("cserve: ")) {
			t.Errorf("cserve %q: %v, output %q; want exit status 2 and a message", args, err, out)
		}
	}
}

// testEcho runs 200 connections at once, each sending 256 KiB in writes of
// 1 B to 64 KiB while reading, and checks each gets back its own bytes.
func testEcho(t *testing.T, bin string) {
	s := start(t, bin)
	const conns, size = 200, 256 << 10
	errs := make(chan error, conns)
	for i := range conns {
		go func() { errs <- echoStream(s.addr, uint64(i), size) }()
	}
	for range conns {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	s.checkRunning(t)
}

// echoStream sends size bytes drawn from seed on a new connection and
// checks that the same bytes come back in order.
func echoStream(addr string, seed uint64, size int) error {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		return err
	}
	want := random(seed, size)
	werr := make(chan error, 1)
	go func() {
		chunks := rand.New(rand.NewPCG(seed, 1))
		for off := 0; off < size; {
			n := min(1+chunks.IntN(64<<10), size-off)
			if _, err := c.Write(want[off : off+n]); err != nil {
				werr <- err
				return
			}
			off += n
		}
		werr <- nil
	}()
	got := make([]byte, size)
	n, rerr := io.ReadFull(c, got)
	if rerr != nil {
		c.Close() // unblocks the writer
	}
	if err := <-werr; err != nil && rerr == nil {
		return fmt.Errorf("conn %d: write: %w", seed, err)
	}
	if rerr != nil {
		return fmt.Errorf("conn %d: read %d of %d bytes: %w", seed, n, size, rerr)
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("conn %d: echo differs from what was sent", seed)
	}
	return nil
}

// testNoReader writes up to 8 MiB on a connection without reading. The
// server stops reading a connection whose echo is backed up, so the write
// stalls once the socket buffers are full (or completes, if they hold it
// all) and ends at its deadline. Meanwhile the server stays small and
// another connection still echoes; then every byte written comes back.
func testNoReader(t *testing.T, bin string) {
	s := start(t, bin)
	// A small receive buffer, set before connecting, keeps the client from
	// absorbing the echo, so the server's own buffers must take the backlog.
	d := net.Dialer{Timeout: 5 * time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
		var err error
		if cerr := rc.Control(func(fd uintptr) {
			err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 16<<10)
		}); cerr != nil {
			return cerr
		}
		return err
	}}
	c, err := d.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(20 * time.Second)); err != nil {
		t.Fatal(err)
	}
	data := random(7, 8<<20)
	if err := c.SetWriteDeadline(time.Now().Add(2 * time.Second)); err != nil {
		t.Fatal(err)
	}
	wrote, err := c.Write(data)
	if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("write: %v after %d bytes; want success or a timeout", err, wrote)
	}
	t.Logf("wrote %d of %d bytes before the write stopped", wrote, len(data))

	s.checkRunning(t)
	echoOnce(t, s.addr)
	if rss, want := vmRSS(t, s.cmd.Process.Pid), 64<<20; rss > want {
		t.Errorf("cserve resident set %d bytes; want at most %d", rss, want)
	}
	got := make([]byte, wrote)
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("reading the echo back: %v", err)
	}
	checkSame(t, "echo of the unread writes", got, data[:wrote])
}

// vmRSS returns the resident set size of process pid.
func vmRSS(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			if err != nil {
				t.Fatalf("VmRSS line %q: %v", line, err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no VmRSS in /proc/%d/status", pid)
	return 0
}

// testMaxConns checks that a connection over -max-conns is closed at once.
func testMaxConns(t *testing.T, bin string) {
	s := start(t, bin, "-max-conns", "1")
	first := dial(t, s.addr) // echoes, so it is accepted and counted
	if _, err := first.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(first, make([]byte, 1)); err != nil {
		t.Fatalf("first connection: %v", err)
	}
	second := dial(t, s.addr)
	if n, err := second.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("second connection read = %d, %v; want EOF", n, err)
	}
}

// testSignals checks that SIGINT and SIGTERM end the server with status 0
// within 5 s, with a connection still open.
func testSignals(t *testing.T, bin string) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			s := start(t, bin)
			echoOnce(t, s.addr)
			if err := s.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			select {
			case <-s.exited:
				if s.err != nil {
					t.Errorf("after %v: %v; want exit status 0\nstderr: %s", sig, s.err, &s.stderr)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("still running 5s after %v", sig)
			}
		})
	}
}

// plainRequest is the request of the HTTP benchmark.
const plainRequest = "GET /plaintext HTTP/1.1\r\nHost: bench\r\n\r\n"

// testHTTP checks -proto http: the exact bytes of a response, pipelining,
// requests split across writes, the routes and the refusals.
func testHTTP(t *testing.T, bin string) {
	s := start(t, bin, "-proto", "http")
	t.Run("bytes", func(t *testing.T) { testHTTPBytes(t, s.addr) })
	t.Run("pipelined", func(t *testing.T) { testHTTPPipelined(t, s.addr) })
	t.Run("split", func(t *testing.T) { testHTTPSplit(t, s.addr) })
	t.Run("routes", func(t *testing.T) { testHTTPRoutes(t, s.addr) })
	s.checkRunning(t)
}

// testHTTPBytes checks a response byte for byte: the fields of pinion's
// codec.AppendResponse, in its order, with "Server: c".
func testHTTPBytes(t *testing.T, addr string) {
	const head = "HTTP/1.1 200 OK\r\nServer: c\r\nDate: "
	const tail = "\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!"
	c := dial(t, addr)
	if _, err := io.WriteString(c, plainRequest); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(head)+len(http.TimeFormat)+len(tail))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	date := string(got[len(head) : len(got)-len(tail)])
	if want := head + date + tail; string(got) != want {
		t.Fatalf("response\n%q\nwant\n%q", got, want)
	}
	d, err := http.ParseTime(date)
	if err != nil {
		t.Fatalf("Date %q: %v", date, err)
	}
	if skew := time.Since(d).Abs(); skew > time.Minute {
		t.Errorf("Date %q is %v from now; want within a minute", date, skew)
	}
}

// readPlaintext reads one response from br and checks it is the
// /plaintext one.
func readPlaintext(t *testing.T, br *bufio.Reader) {
	t.Helper()
	resp, body := readResponse(t, br)
	if resp.StatusCode != 200 || body != "Hello, World!" || resp.ContentLength != 13 || resp.Close {
		t.Fatalf("got %d, body %q, Content-Length %d, close %v; want 200, Hello, World!, 13, keep-alive",
			resp.StatusCode, body, resp.ContentLength, resp.Close)
	}
	if _, err := http.ParseTime(resp.Header.Get("Date")); err != nil {
		t.Errorf("Date %q: %v", resp.Header.Get("Date"), err)
	}
}

// readResponse reads one response and its body from br.
func readResponse(t *testing.T, br *bufio.Reader) (*http.Response, string) {
	t.Helper()
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("reading a response: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading a response body: %v", err)
	}
	return resp, string(body)
}

// testHTTPPipelined sends 16 requests in one write and reads 16 responses.
func testHTTPPipelined(t *testing.T, addr string) {
	c := dial(t, addr)
	if _, err := io.WriteString(c, strings.Repeat(plainRequest, 16)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	for range 16 {
		readPlaintext(t, br)
	}
}

// testHTTPSplit sends requests in pieces: the server must keep the start
// of an incomplete request and answer once the rest arrives.
func testHTTPSplit(t *testing.T, addr string) {
	n := len(plainRequest)
	for _, tt := range []struct {
		name string
		cuts []int
	}{
		{"request line", []int{7}},
		{"header field", []int{n - 8}},
		{"blank line", []int{n - 1}},
		{"between requests", []int{n, n + 3}},
		{"every byte", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, addr)
			req := strings.Repeat(plainRequest, 2)
			cuts := tt.cuts
			if cuts == nil {
				for i := 1; i < len(req); i++ {
					cuts = append(cuts, i)
				}
			}
			from := 0
			for _, to := range append(cuts, len(req)) {
				if _, err := io.WriteString(c, req[from:to]); err != nil {
					t.Fatal(err)
				}
				from = to
			}
			br := bufio.NewReader(c)
			readPlaintext(t, br)
			readPlaintext(t, br)
		})
	}
}

// testHTTPRoutes checks each route and refusal on a connection of its own.
func testHTTPRoutes(t *testing.T, addr string) {
	for _, tt := range []struct {
		name, req   string
		status      int
		body, ctype string
		close       bool
		connection  string // the Connection field; "" for none or close
	}{
		{"json", "GET /json HTTP/1.1\r\n\r\n", 200, `{"message":"Hello, World!"}`, "application/json", false, ""},
		{"not found", "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", 404, "Not Found\n", "text/plain", false, ""},
		{"prefix of a route", "GET /plaintextx HTTP/1.1\r\n\r\n", 404, "Not Found\n", "text/plain", false, ""},
		{"POST", "POST /plaintext HTTP/1.1\r\n\r\n", 404, "Not Found\n", "text/plain", false, ""},
		{"Content-Length 0", "GET /plaintext HTTP/1.1\r\ncontent-length: 0\r\n\r\n", 200, "Hello, World!", "text/plain", false, ""},
		{"Connection: close", "GET /plaintext HTTP/1.1\r\nConnection: close\r\n\r\n", 200, "Hello, World!", "text/plain", true, ""},
		{"HTTP/1.0", "GET /plaintext HTTP/1.0\r\n\r\n", 200, "Hello, World!", "text/plain", true, ""},
		{"HTTP/1.0 keep-alive", "GET /plaintext HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", 200, "Hello, World!", "text/plain", false, "keep-alive"},
		{"body", "POST /plaintext HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", 400, "Bad Request\n", "text/plain", true, ""},
		{"chunked", "POST /plaintext HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, "Bad Request\n", "text/plain", true, ""},
		{"long header", "GET /plaintext HTTP/1.1\r\nX: " + strings.Repeat("a", 9000) + "\r\n\r\n", 431, "Request Header Fields Too Large\n", "text/plain", true, ""},
		{"unterminated", "GET /plaintext HTTP/1.1\r\nX: " + strings.Repeat("a", 9000), 431, "Request Header Fields Too Large\n", "text/plain", true, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, addr)
			if _, err := io.WriteString(c, tt.req); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(c)
			resp, body := readResponse(t, br)
			if resp.StatusCode != tt.status || body != tt.body || resp.Header.Get("Content-Type") != tt.ctype ||
				resp.Close != tt.close || resp.Header.Get("Connection") != tt.connection {
				t.Fatalf("got %d %q, Content-Type %q, close %v, Connection %q; want %d %q, %q, %v, %q",
					resp.StatusCode, body, resp.Header.Get("Content-Type"), resp.Close, resp.Header.Get("Connection"),
					tt.status, tt.body, tt.ctype, tt.close, tt.connection)
			}
			if tt.close {
				if n, err := br.Read(make([]byte, 1)); err != io.EOF {
					t.Fatalf("after a closing response: read %d, %v; want EOF", n, err)
				}
			}
		})
	}
}
