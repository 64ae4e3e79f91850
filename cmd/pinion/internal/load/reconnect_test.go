package load

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/pinion-net/pinion/internal/tcptest"
)

// lingerEnd ends a fake connection as a draining server does: FIN, then
// what the client still sends is read and dropped until its FIN.
func lingerEnd(c net.Conn) {
	_ = c.(*net.TCPConn).CloseWrite()
	_, _ = io.Copy(io.Discard, c)
}

// httpEveryThird answers requests, the third of each connection with
// "Connection: close" (then ends it), or, with cut, with half a response.
func httpEveryThird(cut bool) func(c net.Conn) {
	return func(c net.Conn) {
		br := bufio.NewReader(c)
		for i := 1; ; i++ {
			if _, err := http.ReadRequest(br); err != nil {
				return
			}
			resp := "HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello, World!"
			if i == 3 {
				resp = "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 13\r\n\r\nHello, World!"
				if cut {
					resp = resp[:len(resp)-5]
				}
			}
			if _, err := c.Write([]byte(resp)); err != nil {
				return
			}
			if i == 3 {
				lingerEnd(c)
				return
			}
		}
	}
}

// echoTwoThenEnd echoes two messages of size bytes, then reads a third
// without answering it and ends the connection.
func echoTwoThenEnd(size int) func(c net.Conn) {
	return func(c net.Conn) {
		buf := make([]byte, size)
		for range 2 {
			if _, err := io.ReadFull(c, buf); err != nil {
				return
			}
			if _, err := c.Write(buf); err != nil {
				return
			}
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			return
		}
		lingerEnd(c)
	}
}

// TestLoadReconnect: with -reconnect, a connection the server ends between
// responses ("Connection: close" on HTTP, a FIN at a message boundary on
// echo) is dialed again and its unanswered requests sent again, counted
// and not errors; a response cut by the end of its connection is still a
// verification error, and without -reconnect "Connection: close" is one.
func TestLoadReconnect(t *testing.T) {
	base := []string{"-conns", "4", "-pipeline", "1", "-warmup", "0s", "-duration", "300ms", "-json"}
	t.Run("http", func(t *testing.T) {
		addr := tcptest.Serve(t, httpEveryThird(false))
		code, stdout, stderr := runLoadCmd(t, append([]string{"-addr", addr, "-proto", "http", "-reconnect"}, base...)...)
		r, _ := decodeResult(t, stdout)
		if code != 0 || r.IOErrors+r.VerifyErrors+r.Timeouts+r.ConnectErrors != 0 {
			t.Fatalf("exit %d, errors in %s\nstderr: %s", code, stdout, stderr)
		}
		// Every third response closes its connection; the next batch
		// goes on a new one, and nothing was left unanswered.
		if r.Reconnects == 0 || r.Resent != 0 {
			t.Errorf("reconnects %d (want > 0), resent %d (want 0)", r.Reconnects, r.Resent)
		}
		t.Logf("%d requests, %d reconnects", r.Requests, r.Reconnects)
	})
	t.Run("echo", func(t *testing.T) {
		addr := tcptest.Serve(t, echoTwoThenEnd(16))
		code, stdout, stderr := runLoadCmd(t, append([]string{"-addr", addr, "-proto", "echo", "-size", "16", "-reconnect"}, base...)...)
		r, _ := decodeResult(t, stdout)
		if code != 0 || r.IOErrors+r.VerifyErrors+r.Timeouts+r.ConnectErrors != 0 {
			t.Fatalf("exit %d, errors in %s\nstderr: %s", code, stdout, stderr)
		}
		if r.Reconnects == 0 || r.Resent != r.Reconnects {
			t.Errorf("reconnects %d, resent %d: want one unanswered message resent per reconnect", r.Reconnects, r.Resent)
		}
		t.Logf("%d requests, %d reconnects, %d resent", r.Requests, r.Reconnects, r.Resent)
	})
	t.Run("cut", func(t *testing.T) {
		addr := tcptest.Serve(t, httpEveryThird(true))
		code, stdout, _ := runLoadCmd(t, append([]string{"-addr", addr, "-proto", "http", "-reconnect"}, base...)...)
		r, _ := decodeResult(t, stdout)
		if code == 0 || r.VerifyErrors == 0 || !strings.Contains(r.FirstError, "middle of a response") {
			t.Fatalf("exit %d, verify errors %d, first error %q: want the cut response reported", code, r.VerifyErrors, r.FirstError)
		}
	})
	t.Run("without", func(t *testing.T) {
		addr := tcptest.Serve(t, httpEveryThird(false))
		code, stdout, _ := runLoadCmd(t, append([]string{"-addr", addr, "-proto", "http"}, base...)...)
		r, _ := decodeResult(t, stdout)
		if code == 0 || r.VerifyErrors == 0 || r.Reconnects != 0 {
			t.Fatalf("exit %d, verify errors %d, reconnects %d: want Connection: close refused", code, r.VerifyErrors, r.Reconnects)
		}
	})
}
