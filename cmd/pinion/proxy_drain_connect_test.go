package main

import (
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pinion-net/pinion/internal/tcptest"
)

// fullUpstream is a listening socket whose accept queue is full: its
// backlog is 0 and the connections in fillers wait in it unaccepted, so the
// kernel drops any other SYN, and a connect to it stays pending until the
// client's SYN is sent again (after about a second) into a queue that has
// room.
type fullUpstream struct {
	ln      net.Listener
	fillers int
	port    int
}

// startFullUpstream listens with a backlog of 0 and connects until a
// connect hangs; it skips the test if the kernel keeps queueing them.
func startFullUpstream(t *testing.T) *fullUpstream {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), "upstream")
	defer f.Close() // FileListener holds a duplicate
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	ln, err := net.FileListener(f)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	u := &fullUpstream{ln: ln, port: ln.Addr().(*net.TCPAddr).Port}
	for {
		c, err := net.DialTimeout("tcp", ln.Addr().String(), 200*time.Millisecond)
		if err != nil {
			return u // the queue is full
		}
		t.Cleanup(func() { c.Close() })
		if u.fillers++; u.fillers > 16 {
			t.Skip("the kernel kept accepting connects to a full queue")
		}
	}
}

// connecting reports whether a socket of this process is connecting to the
// upstream (seen in /proc/net/tcp: a probe connection would be proxied
// upstream).
func (u *fullUpstream) connecting() bool {
	on, _ := tcptest.HasSocket(tcptest.SynSent, tcptest.RemotePort, u.port)
	return on
}

// open lets the next SYN in: the fillers are accepted and closed, which
// empties the queue.
func (u *fullUpstream) open(t *testing.T) {
	t.Helper()
	for range u.fillers {
		c, err := u.ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
}

// accept takes the proxy's connection, once it has connected.
func (u *fullUpstream) accept(t *testing.T) net.Conn {
	t.Helper()
	_ = u.ln.(*net.TCPListener).SetDeadline(time.Now().Add(10 * time.Second))
	c, err := u.ln.Accept()
	if err != nil {
		t.Fatalf("the proxy's upstream connection: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

// TestProxyDrainDuringConnect, on both models and backends: a drain that
// begins while a relay's upstream connect is still pending, with the
// client's request waiting, does not close the relay as quiet (its grace
// is shorter than the connect): once the upstream connects, the request
// reaches it and the reply the client; then the relay is quiet and closes
// with a FIN both ways, and the drain ends long before its deadline.
func TestProxyDrainDuringConnect(t *testing.T) {
	const grace = 200 * time.Millisecond
	if _, err := tcptest.HasSocket(tcptest.Listen, tcptest.LocalPort, 0); err != nil {
		t.Skip(err)
	}
	forEachProxyBackend(t, func(t *testing.T, model, ioMode string) {
		u := startFullUpstream(t)
		proxy := drainProxy(ioMode, u.ln.Addr().String(), grace, 20*time.Second)
		srv := startServer(t, model, func(c *serveConfig) {
			proxy(c)
			// The SYN is sent again 1 s, 3 s and 7 s after the first: a
			// slow test that opens the queue after the first still
			// connects before the timeout.
			c.connectTimeout = 15 * time.Second
		})
		c, err := net.DialTimeout("tcp", srv.addr(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(15 * time.Second))
		if _, err := c.Write([]byte("ping")); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, 10*time.Second, "the proxy connecting upstream", u.connecting)
		start, done := drainStart(srv, 20*time.Second)
		port := srv.addr()
		lport, err := strconv.Atoi(port[strings.LastIndexByte(port, ':')+1:])
		if err != nil {
			t.Fatal(err)
		}
		waitUntil(t, 5*time.Second, "the drain closing the listeners", func() bool {
			on, _ := tcptest.HasSocket(tcptest.Listen, tcptest.LocalPort, lport)
			return !on
		})
		// Past the grace while still connecting: a relay taken for quiet
		// would be closed now.
		time.Sleep(2 * grace) // lets the drain's quiet check run; not a synchronisation
		if !u.connecting() {
			t.Fatal("the upstream connect ended before the queue was opened")
		}
		opened := time.Since(start)
		u.open(t)
		up := u.accept(t)
		t.Logf("%s: queue opened %v into the drain, upstream connected at %v", t.Name(),
			opened.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
		got := make([]byte, 4)
		if _, err := io.ReadFull(up, got); err != nil || string(got) != "ping" {
			t.Fatalf("upstream read %q, %v; want the client's ping, held while connecting", got, err)
		}
		if _, err := up.Write([]byte("pong")); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, got); err != nil || string(got) != "pong" {
			t.Fatalf("client read %q, %v; want the upstream's pong", got, err)
		}
		replied := time.Now()
		closed := expectEOF(t, c, c, "the relay, quiet after its reply")
		if closed.Sub(replied) > 10*grace {
			t.Errorf("the relay closed %v after its reply; want about the %v grace", closed.Sub(replied), grace)
		}
		if err := readToFIN(up); err != nil {
			t.Errorf("upstream: %v; want the proxy's FIN", err)
		}
		up.Close() // the proxy's lingering closes of both sides end
		c.Close()
		drainEnds(t, done)
		t.Logf("%s: drain began during the connect and took %v", t.Name(), time.Since(start).Round(time.Millisecond))
	})
}
