package engine_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pinion-net/pinion/codec"
	"github.com/pinion-net/pinion/engine"
)

// proxyProbe answers every line it receives with what the connection
// reports after its PROXY header: "remote local alpn line".
type proxyProbe struct {
	engine.BaseHandler
	opens, closes atomic.Int64
}

func (p *proxyProbe) OnOpen(*engine.Conn) { p.opens.Add(1) }

func (p *proxyProbe) OnClose(*engine.Conn, error) { p.closes.Add(1) }

func (p *proxyProbe) OnData(c *engine.Conn) {
	for {
		in := c.Peek(-1)
		i := strings.IndexByte(string(in), '\n')
		if i < 0 {
			return
		}
		alpn := "-"
		if h, ok := engine.ProxyHeader(c); ok && h.ALPN() != nil {
			alpn = string(h.ALPN())
		}
		_, _ = fmt.Fprintf(c, "%s %s %s %s\n", c.RemoteAddr(), c.LocalAddr(), alpn, in[:i])
		c.Discard(i + 1)
	}
}

// proxyTrustLoopback trusts the test's own connections.
var proxyTrustLoopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}

// startProxyProbe starts a probe engine that requires the PROXY protocol
// with pp (Mode set here) and logs at Debug level into the returned buffer.
func startProxyProbe(t *testing.T, pp engine.ProxyProtocol) (*engine.Engine, string, *proxyProbe, *logBuffer) {
	t.Helper()
	pp.Mode = engine.ProxyRequire
	log, buf := testLogger()
	p := &proxyProbe{}
	e, addr := startEngine(t, p, engine.Config{ProxyProtocol: pp, Logger: log})
	return e, addr, p, buf
}

// proxyAsk sends prefix, then line and a newline, and returns the answer
// line without its newline.
func proxyAsk(t *testing.T, c net.Conn, r *bufio.Reader, prefix []byte, line string) string {
	t.Helper()
	if err := c.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write(append(append(prefix, line...), '\n')); err != nil {
		t.Fatalf("write: %v", err)
	}
	got, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("read the answer to %q: %v (got %q)", line, err, got)
	}
	return strings.TrimSuffix(got, "\n")
}

func proxyDial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func proxyV2(t *testing.T, h codec.ProxyHeader) []byte {
	t.Helper()
	b, err := codec.AppendProxyV2(nil, &h)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestProxyGoodHeaders checks that after a good header RemoteAddr and
// LocalAddr report the header's addresses (the socket's for LOCAL and
// UNKNOWN), TLVs are readable, and the bytes after the header reach the
// handler intact, however the header is split.
func TestProxyGoodHeaders(t *testing.T) {
	_, addr, probe, _ := startProxyProbe(t, engine.ProxyProtocol{Trusted: proxyTrustLoopback})
	tlvs := codec.AppendProxyTLV(nil, codec.ProxyTLVALPN, []byte("h2"))
	tlvs = codec.AppendProxyTLV(tlvs, codec.ProxyTLVCRC32C, make([]byte, 4))
	v2 := proxyV2(t, codec.ProxyHeader{Command: codec.ProxyProxy, Family: codec.ProxyINET, Transport: codec.ProxyStream,
		Source: netip.MustParseAddrPort("203.0.113.9:51000"), Destination: netip.MustParseAddrPort("192.0.2.10:443"), RawTLVs: tlvs})
	v2six := proxyV2(t, codec.ProxyHeader{Command: codec.ProxyProxy, Family: codec.ProxyINET6, Transport: codec.ProxyStream,
		Source: netip.MustParseAddrPort("[2001:db8::7]:1234"), Destination: netip.MustParseAddrPort("[2001:db8::1]:80")})
	local := proxyV2(t, codec.ProxyHeader{Command: codec.ProxyLocal})
	tests := []struct {
		name   string
		header []byte
		split  bool   // send the header a byte at a time
		want   string // "" for the socket's own addresses
	}{
		{"v1 TCP4", []byte("PROXY TCP4 198.51.100.22 192.0.2.10 40000 8080\r\n"), false, "198.51.100.22:40000 192.0.2.10:8080 -"},
		{"v1 TCP4 a byte at a time", []byte("PROXY TCP4 198.51.100.22 192.0.2.10 40000 8080\r\n"), true, "198.51.100.22:40000 192.0.2.10:8080 -"},
		{"v2 TCP4 with ALPN and CRC32C", v2, false, "203.0.113.9:51000 192.0.2.10:443 h2"},
		{"v2 a byte at a time", v2, true, "203.0.113.9:51000 192.0.2.10:443 h2"},
		{"v2 TCP6", v2six, false, "[2001:db8::7]:1234 [2001:db8::1]:80 -"},
		{"v2 LOCAL", local, false, ""},
		{"v1 UNKNOWN", []byte("PROXY UNKNOWN\r\n"), false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := proxyDial(t, addr)
			r := bufio.NewReader(c)
			want := tt.want
			if want == "" {
				want = c.LocalAddr().String() + " " + addr + " -"
			}
			prefix := tt.header
			if tt.split {
				for _, b := range tt.header {
					if _, err := c.Write([]byte{b}); err != nil {
						t.Fatal(err)
					}
				}
				prefix = nil
			}
			if got := proxyAsk(t, c, r, prefix, "hello"); got != want+" hello" {
				t.Fatalf("got %q, want %q", got, want+" hello")
			}
			// The header deadline was cleared: the connection is still
			// served after it would have passed (HeaderTimeout is 3s by
			// default; a second request follows the first at once, and
			// TestProxyDeadlineCleared waits out a short one).
			if got := proxyAsk(t, c, r, nil, "again"); got != want+" again" {
				t.Fatalf("second line: got %q, want %q", got, want+" again")
			}
		})
	}
	if n := probe.opens.Load(); n != int64(len(tests)) {
		t.Errorf("OnOpen ran %d times for %d connections", n, len(tests))
	}
}

// TestProxyDeadlineCleared checks that a connection whose header arrived
// is not closed when the header deadline passes.
func TestProxyDeadlineCleared(t *testing.T) {
	_, addr, _, _ := startProxyProbe(t, engine.ProxyProtocol{Trusted: proxyTrustLoopback, HeaderTimeout: 100 * time.Millisecond})
	c := proxyDial(t, addr)
	r := bufio.NewReader(c)
	hdr := []byte("PROXY TCP4 198.51.100.22 192.0.2.10 40000 8080\r\n")
	if got := proxyAsk(t, c, r, hdr, "a"); !strings.HasPrefix(got, "198.51.100.22:40000 ") {
		t.Fatalf("got %q", got)
	}
	time.Sleep(300 * time.Millisecond) // three times the header deadline
	if got := proxyAsk(t, c, r, nil, "b"); !strings.HasPrefix(got, "198.51.100.22:40000 ") {
		t.Fatalf("after the header deadline: got %q", got)
	}
}

// TestProxyAbuse sends each form of abuse on its own connection while a
// good connection stays open, and checks that each is closed (by its
// error at once, or by the header deadline), that the handler never saw
// them, that the good connection is unaffected, that each reason is logged
// and that no descriptor is left.
func TestProxyAbuse(t *testing.T) {
	const deadline = 300 * time.Millisecond
	// Two engines: one whose deadline is long, so that a close proves the
	// header was refused on its bytes; one whose deadline is short, for
	// what only the deadline can end.
	eNow, addrNow, probeNow, logNow := startProxyProbe(t, engine.ProxyProtocol{Trusted: proxyTrustLoopback, HeaderTimeout: time.Minute, MaxV2Length: 256})
	eLate, addrLate, probeLate, logLate := startProxyProbe(t, engine.ProxyProtocol{Trusted: proxyTrustLoopback, HeaderTimeout: deadline})
	_, addrUntrusted, probeUntrusted, logUntrusted := startProxyProbe(t, engine.ProxyProtocol{
		Trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}})

	good := proxyDial(t, addrNow)
	goodR := bufio.NewReader(good)
	hdr := []byte("PROXY TCP4 198.51.100.22 192.0.2.10 40000 8080\r\n")
	if got := proxyAsk(t, good, goodR, hdr, "before"); !strings.HasPrefix(got, "198.51.100.22:40000") {
		t.Fatalf("good connection: %q", got)
	}
	fds := openFDs(t)

	v2 := proxyV2(t, codec.ProxyHeader{Command: codec.ProxyProxy, Family: codec.ProxyINET, Transport: codec.ProxyStream,
		Source: netip.MustParseAddrPort("203.0.113.9:51000"), Destination: netip.MustParseAddrPort("192.0.2.10:443")})
	tooLong := append([]byte(nil), v2[:16]...)
	tooLong[14], tooLong[15] = 0x03, 0xE8 // 1000 bytes, over MaxV2Length 256
	tests := []struct {
		name    string
		addr    string
		send    []byte
		trickle bool // send one byte every 50ms instead
		eof     bool // then half-close
		late    bool // only the deadline ends it
		reason  string
		logs    *logBuffer
	}{
		{name: "no header", addr: addrNow, send: []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), reason: "wrong signature", logs: logNow},
		{name: "wrong v2 signature", addr: addrNow, send: []byte("\r\n\r\n\x00\r\nQUIX\n"), reason: "wrong signature", logs: logNow},
		{name: "v1 line over 107 bytes", addr: addrNow, send: []byte("PROXY UNKNOWN " + strings.Repeat("x", 200)), reason: "PROXY v1 line of 108 bytes exceeds", logs: logNow},
		{name: "v2 length past the bound", addr: addrNow, send: tooLong, reason: "PROXY v2 header of 1016 bytes exceeds the limit of 272", logs: logNow},
		{name: "v1 octet of 256", addr: addrNow, send: []byte("PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n"), reason: "malformed address", logs: logNow},
		{name: "truncated v2 then EOF", addr: addrNow, send: v2[:20], eof: true, reason: "connection ended before its PROXY header", logs: logNow},
		{name: "untrusted source", addr: addrUntrusted, send: hdr, reason: "untrusted source", logs: logUntrusted},
		{name: "no bytes at all", addr: addrLate, late: true, reason: "not received in time", logs: logLate},
		{name: "truncated v2", addr: addrLate, send: v2[:20], late: true, reason: "not received in time", logs: logLate},
		{name: "one header byte at a time", addr: addrLate, send: hdr, trickle: true, late: true, reason: "not received in time", logs: logLate},
	}
	var wg sync.WaitGroup
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logged := func() bool { return strings.Contains(tt.logs.String(), tt.reason) }
			start := time.Now()
			c, err := net.DialTimeout("tcp", tt.addr, 5*time.Second)
			if err != nil {
				// An untrusted peer is reset as soon as it is accepted,
				// which may be before connect returns here.
				if tt.send == nil || !isReset(err) {
					t.Fatalf("dial: %v", err)
				}
				waitFor(t, 5*time.Second, "reason "+tt.reason+" logged", logged, nil)
				return
			}
			defer c.Close()
			stop := make(chan struct{})
			switch {
			case tt.trickle:
				wg.Add(1)
				go func() {
					defer wg.Done()
					tick := time.NewTicker(50 * time.Millisecond)
					defer tick.Stop()
					for _, b := range tt.send {
						select {
						case <-stop:
							return
						case <-tick.C:
						}
						if _, err := c.Write([]byte{b}); err != nil {
							return
						}
					}
				}()
			case tt.send != nil:
				if _, err := c.Write(tt.send); err != nil && !isReset(err) {
					t.Fatalf("write: %v", err)
				}
			}
			if tt.eof {
				_ = c.(*net.TCPConn).CloseWrite()
			}
			expectClosed(t, c)
			took := time.Since(start)
			close(stop)
			_ = c.Close() // the server lingers for our FIN
			if tt.late && took < deadline*2/3 {
				t.Errorf("closed after %v, before the header deadline of %v", took, deadline)
			}
			waitFor(t, 5*time.Second, "reason "+tt.reason+" logged", logged, nil)
		})
	}
	wg.Wait()
	if got := proxyAsk(t, good, goodR, nil, "after"); !strings.HasPrefix(got, "198.51.100.22:40000") {
		t.Fatalf("good connection after the abuse: %q", got)
	}
	waitFor(t, 5*time.Second, "every abusive connection counted", func() bool {
		return eNow.Stats().ProxyRejected == 6 && eLate.Stats().ProxyRejected == 3
	}, nil)
	if s := eNow.Stats(); s.ProxyAccepted != 1 {
		t.Errorf("ProxyAccepted = %d, want 1", s.ProxyAccepted)
	}
	if o := probeNow.opens.Load() + probeLate.opens.Load() + probeUntrusted.opens.Load(); o != 1 {
		t.Errorf("the handler saw %d connections open, want only the good one", o)
	}
	if c := probeNow.closes.Load() + probeLate.closes.Load() + probeUntrusted.closes.Load(); c != 0 {
		t.Errorf("the handler saw %d connections close, want none", c)
	}
	waitFor(t, 5*time.Second, "descriptors back to their count", func() bool { return openFDs(t) <= fds }, func() string {
		return fmt.Sprintf("%d open, %d before", openFDs(t), fds)
	})
}

// TestProxyPerListener checks that a listener without the PROXY protocol
// serves plain connections while another requires it, and that dialed
// connections never wait for a header.
func TestProxyPerListener(t *testing.T) {
	probe := &proxyProbe{}
	req := engine.ProxyProtocol{Mode: engine.ProxyRequire, Trusted: proxyTrustLoopback}
	e, err := engine.Start(probe, engine.Config{
		Addrs: []string{"127.0.0.1:0", "127.0.0.2:0"}, Loops: 2, Pin: engine.PinOff,
		ProxyProtocolByAddr: map[string]engine.ProxyProtocol{"127.0.0.2:0": req},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = e.Shutdown(ctx)
	})
	plainAddr, proxyAddr := e.Addrs()[0].String(), e.Addrs()[1].String()

	plain := proxyDial(t, plainAddr)
	if got, want := proxyAsk(t, plain, bufio.NewReader(plain), nil, "x"), plain.LocalAddr().String()+" "+plainAddr+" - x"; got != want {
		t.Errorf("plain listener: got %q, want %q", got, want)
	}
	proxied := proxyDial(t, proxyAddr)
	if got := proxyAsk(t, proxied, bufio.NewReader(proxied), []byte("PROXY TCP4 198.51.100.22 192.0.2.10 40000 8080\r\n"), "x"); got != "198.51.100.22:40000 192.0.2.10:8080 - x" {
		t.Errorf("PROXY listener: got %q", got)
	}
	refused := proxyDial(t, proxyAddr)
	if _, err := refused.Write([]byte("x\n")); err != nil {
		t.Fatal(err)
	}
	expectClosed(t, refused)

	// A dialed connection passes straight through, even to a listener of
	// the engine's that requires PROXY: this one dials the plain one.
	h, err := e.Dial(context.Background(), plainAddr, nil)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	_ = h.Close()
	waitFor(t, 5*time.Second, "the dialed and the two served connections open", func() bool { return probe.opens.Load() == 4 }, nil)
}

func TestProxyConfig(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  engine.Config
		want string
	}{
		{"require without trust", engine.Config{ProxyProtocol: engine.ProxyProtocol{Mode: engine.ProxyRequire}}, "no source trusted"},
		{"by address not listened on", engine.Config{Addrs: []string{"127.0.0.1:0"},
			ProxyProtocolByAddr: map[string]engine.ProxyProtocol{"127.0.0.1:1": {}}}, "not in Addrs"},
		{"negative timeout", engine.Config{ProxyProtocol: engine.ProxyProtocol{Mode: engine.ProxyRequire,
			Trusted: proxyTrustLoopback, HeaderTimeout: -1}}, "must not be negative"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e, err := engine.Start(engine.BaseHandler{}, tt.cfg)
			if err == nil {
				_ = e.Shutdown(context.Background())
				t.Fatal("Start succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Start: %v, want an error saying %q", err, tt.want)
			}
		})
	}
	trust, err := engine.ParseProxyTrust("10.0.0.0/8, 192.0.2.7,fd00::/8")
	if err != nil || fmt.Sprint(trust) != "[10.0.0.0/8 192.0.2.7/32 fd00::/8]" {
		t.Errorf("ParseProxyTrust = %v, %v", trust, err)
	}
	if _, err := engine.ParseProxyTrust("10.0.0.0/33"); err == nil {
		t.Error("ParseProxyTrust(10.0.0.0/33) succeeded")
	}
	if m, err := engine.ParseProxyMode("require"); err != nil || m != engine.ProxyRequire {
		t.Errorf("ParseProxyMode(require) = %v, %v", m, err)
	}
	if _, err := engine.ParseProxyMode("maybe"); err == nil {
		t.Error("ParseProxyMode(maybe) succeeded")
	}
}

// TestProxyTrustMapped checks that a trusted network written in its
// IPv4-mapped IPv6 form trusts IPv4 peers.
func TestProxyTrustMapped(t *testing.T) {
	_, addr, _, _ := startProxyProbe(t, engine.ProxyProtocol{Trusted: []netip.Prefix{netip.MustParsePrefix("::ffff:127.0.0.0/104")}})
	c := proxyDial(t, addr)
	hdr := []byte("PROXY TCP4 198.51.100.22 192.0.2.10 40000 8080\r\n")
	if got := proxyAsk(t, c, bufio.NewReader(c), hdr, "x"); !strings.HasPrefix(got, "198.51.100.22:40000 ") {
		t.Fatalf("got %q", got)
	}
}
