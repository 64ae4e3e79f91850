package main

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pinion-net/pinion/codec"
	"github.com/pinion-net/pinion/engine"
)

// proxyWhoami sends prefix then GET /whoami on c and returns the body.
func proxyWhoami(t *testing.T, c net.Conn, r *bufio.Reader, prefix []byte) string {
	t.Helper()
	req := append(prefix, "GET /whoami HTTP/1.1\r\nHost: t\r\n\r\n"...)
	if _, err := c.Write(req); err != nil {
		t.Fatalf("write: %v", err)
	}
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /whoami: %d %q, %v", resp.StatusCode, body, err)
	}
	return string(body)
}

// TestProxyWhoamiPlain checks that without the PROXY protocol /whoami
// reports the socket's peer, in both models.
func TestProxyWhoamiPlain(t *testing.T) {
	forEachModel(t, func(t *testing.T, model string) {
		addr := startHTTP(t, model, nil)
		c, r := httpDial(t, addr)
		if got, want := proxyWhoami(t, c, r, nil), c.LocalAddr().String(); got != want {
			t.Errorf("GET /whoami = %q, want %q", got, want)
		}
	})
}

// TestProxyWhoami checks that with -proxy-protocol require /whoami reports
// the address of a v1 or v2 header, the socket's after LOCAL, and that a
// connection without a header is closed unanswered.
func TestProxyWhoami(t *testing.T) {
	addr := startHTTP(t, "loop", func(c *serveConfig) {
		if err := c.parseProxy("require", "127.0.0.0/8"); err != nil {
			t.Fatal(err)
		}
	})
	v2 := func(h codec.ProxyHeader) []byte {
		b, err := codec.AppendProxyV2(nil, &h)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name   string
		header []byte
		want   string // "": the socket's peer
	}{
		{"v1", []byte("PROXY TCP4 198.51.100.22 192.0.2.10 40000 80\r\n"), "198.51.100.22:40000"},
		{"v2 IPv6", v2(codec.ProxyHeader{Command: codec.ProxyProxy, Family: codec.ProxyINET6, Transport: codec.ProxyStream,
			Source: netip.MustParseAddrPort("[2001:db8::7]:1234"), Destination: netip.MustParseAddrPort("[2001:db8::1]:80")}), "[2001:db8::7]:1234"},
		{"v2 LOCAL", v2(codec.ProxyHeader{Command: codec.ProxyLocal}), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, r := httpDial(t, addr)
			want := tt.want
			if want == "" {
				want = c.LocalAddr().String()
			}
			if got := proxyWhoami(t, c, r, tt.header); got != want {
				t.Errorf("GET /whoami = %q, want %q", got, want)
			}
			// Keep-alive: the next request on the connection sees the same.
			if got := proxyWhoami(t, c, r, nil); got != want {
				t.Errorf("second GET /whoami = %q, want %q", got, want)
			}
		})
	}
	c, _ := httpDial(t, addr)
	if _, err := c.Write([]byte("GET /whoami HTTP/1.1\r\nHost: t\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	// The refusal is a reset: EOF or ECONNRESET, and no byte.
	if b, err := io.ReadAll(c); len(b) > 0 || (err != nil && !errors.Is(err, syscall.ECONNRESET)) {
		t.Errorf("without a header: read %q, %v; want the connection closed unanswered", b, err)
	}
}

func TestProxyServeFlags(t *testing.T) {
	for _, tt := range []struct {
		args string
		want string // "" for success
	}{
		{"-proxy-protocol require -proxy-trust 10.0.0.0/8,fd00::/8", ""},
		{"-proxy-protocol off", ""},
		{"-proxy-protocol require", "needs -proxy-trust"},
		{"-proxy-trust 10.0.0.0/8", "needs -proxy-protocol require"},
		{"-proxy-protocol maybe", "unknown -proxy-protocol"},
		{"-proxy-protocol require -proxy-trust 10.0.0.0/40", "-proxy-trust"},
		{"-model goroutine -proxy-protocol require -proxy-trust 10.0.0.0/8", "-model loop only"},
	} {
		c, err := parseServe(strings.Fields(tt.args), io.Discard)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.args, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: error %v, want one saying %q", tt.args, err, tt.want)
		case tt.want == "" && strings.Contains(tt.args, "require") && (c.proxyProtocol.Mode != engine.ProxyRequire || len(c.proxyProtocol.Trusted) != 2):
			t.Errorf("%s: parsed as %+v", tt.args, c.proxyProtocol)
		}
	}
}
