package main

import (
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pinion-net/pinion/cmd/pinion/internal/wiretest"
	"github.com/pinion-net/pinion/codec"
)

// respConn is a small RESP client for the model tests.
type respConn struct {
	t    *testing.T
	c    net.Conn
	buf  []byte // received, not yet parsed
	rbuf []byte
	r    codec.Reply
}

func dialRESP(t *testing.T, addr string) *respConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	return &respConn{t: t, c: c, rbuf: make([]byte, 64<<10)}
}

func (rc *respConn) write(b []byte) {
	rc.t.Helper()
	if _, err := rc.c.Write(b); err != nil {
		rc.t.Fatalf("write: %v", err)
	}
}

// reply reads one reply and returns its bytes, or "" and the error (io.EOF
// when the server closed).
func (rc *respConn) reply() (string, error) {
	for {
		n, err := codec.ParseReply(rc.buf, &rc.r, nil)
		if err != nil {
			return "", err
		}
		if n > 0 {
			s := string(rc.buf[:n])
			rc.buf = rc.buf[n:]
			return s, nil
		}
		m, err := rc.c.Read(rc.rbuf)
		rc.buf = append(rc.buf, rc.rbuf[:m]...)
		if m == 0 && err != nil {
			return "", err
		}
	}
}

// do sends the commands and checks their replies.
func (rc *respConn) do(in []byte, want ...string) {
	rc.t.Helper()
	rc.write(in)
	rc.expect(want...)
}

func (rc *respConn) expect(want ...string) {
	rc.t.Helper()
	for i, w := range want {
		got, err := rc.reply()
		if err != nil || got != w {
			rc.t.Fatalf("reply %d: got %q, %v; want %q", i, got, err, w)
		}
	}
}

// expectEOF checks that the server closes the connection, after no more
// replies.
func (rc *respConn) expectEOF() {
	rc.t.Helper()
	got, err := rc.reply()
	if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !respConnReset(err) {
		rc.t.Fatalf("got %q, %v; want the connection closed", got, err)
	}
}

func respConnReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection reset by peer")
}

func startRESP(t *testing.T, model string) string {
	return startModel(t, model, func(c *serveConfig) { c.proto = "resp" })
}

// TestRESPModels runs commands over TCP against both models: the store is
// shared by all connections, pipelines and byte-by-byte input work, QUIT
// closes.
func TestRESPModels(t *testing.T) {
	forEachModel(t, func(t *testing.T, model string) {
		addr := startRESP(t, model)
		a, b := dialRESP(t, addr), dialRESP(t, addr)
		a.do(wiretest.RESPCommands("SET shared 1"), wiretest.RESPOK)
		b.do(wiretest.RESPCommands("INCR shared", "GET shared"), wiretest.RESPInt(2), wiretest.RESPBulk("2"))
		a.do(wiretest.RESPCommands("SET t v EX 100", "TTL t", "DBSIZE"), wiretest.RESPOK, wiretest.RESPInt(100), wiretest.RESPInt(2))

		var pipe []byte
		var want []string
		for i := range 16 {
			pipe = append(pipe, wiretest.RESPCommands("INCR counter")...)
			want = append(want, wiretest.RESPInt(i+1))
		}
		a.do(pipe, want...)

		for _, c := range wiretest.RESPCommands("MSET x 1 y 2", "MGET x y nope") {
			b.write([]byte{c})
		}
		b.expect(wiretest.RESPOK, "*3\r\n"+wiretest.RESPBulk("1")+wiretest.RESPBulk("2")+wiretest.RESPNull)

		big := strings.Repeat("z", 512<<10)
		a.do(wiretest.RESPCommands("SET big "+big, "GET big", "DEL big"), wiretest.RESPOK, wiretest.RESPBulk(big), wiretest.RESPInt(1))

		a.do(wiretest.RESPCommands("FLUSHALL", "DBSIZE"), wiretest.RESPOK, wiretest.RESPInt(0))
		a.do([]byte("PING\r\nQUIT\r\nPING\r\n"), "+PONG\r\n", wiretest.RESPOK)
		a.expectEOF()
		b.do(wiretest.RESPCommands("PING"), "+PONG\r\n")
	})
}

// TestRESPBadInput sends garbage and oversized declarations: each gets an
// error reply and its connection closed at once, without waiting for the
// declared bytes, while another connection carries on.
func TestRESPBadInput(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"declared 1 TiB bulk", "*2\r\n$3\r\nGET\r\n$1099511627776\r\n",
			wiretest.RESPError("ERR Protocol error: RESP bulk string of 1099511627776 bytes exceeds the limit of 1048576")},
		{"declared 1 TiB command", "*1099511627776\r\n",
			wiretest.RESPError("ERR Protocol error: RESP command array of 1099511627776 elements exceeds the limit of 1048576")},
		{"binary garbage", "*\x00\xff\xfe\r\n", wiretest.RESPError("ERR Protocol error: invalid multibulk length")},
		{"bad bulk", "*1\r\n$3\r\nGETX\r\n", wiretest.RESPError("ERR Protocol error: bulk string not followed by CRLF (length mismatch)")},
		{"unbalanced quotes", "GET \"k\r\n", wiretest.RESPError("ERR Protocol error: unbalanced quotes in request")},
		{"endless inline", strings.Repeat("garbage ", 9000/8), // all read before the close: no reset
			wiretest.RESPError("ERR Protocol error: RESP inline command of 8193 bytes exceeds the limit of 8192")},
	}
	forEachModel(t, func(t *testing.T, model string) {
		addr := startRESP(t, model)
		good := dialRESP(t, addr)
		good.do(wiretest.RESPCommands("SET k v"), wiretest.RESPOK)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				good.t = t // subtests run one at a time
				bad := dialRESP(t, addr)
				bad.do([]byte(tt.in), tt.want)
				bad.expectEOF()
				good.do(wiretest.RESPCommands("GET k"), wiretest.RESPBulk("v"))
			})
		}
		good.t = t
		// A bare "$n" line is not a command but an inline one named so.
		other := dialRESP(t, addr)
		other.do([]byte("$1099511627776\r\nPING\r\n"), wiretest.RESPError("ERR unknown command '$1099511627776'"), "+PONG\r\n")
	})
}
