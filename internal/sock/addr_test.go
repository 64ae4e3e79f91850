package sock_test

import (
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/pinion-net/pinion/internal/sock"
)

var parseTests = []struct {
	in   string
	want sock.Addr
}{
	{"tcp://127.0.0.1:8080", sock.Addr{"tcp4", "127.0.0.1:8080"}},
	{"tcp4://127.0.0.1:0", sock.Addr{"tcp4", "127.0.0.1:0"}},
	{"tcp6://[::1]:0", sock.Addr{"tcp6", "[::1]:0"}},
	{"tcp://[::1]:9000", sock.Addr{"tcp6", "[::1]:9000"}},
	{"127.0.0.1:80", sock.Addr{"tcp4", "127.0.0.1:80"}},
	{"[2001:db8::1]:443", sock.Addr{"tcp6", "[2001:db8::1]:443"}},
	{":8080", sock.Addr{"tcp4", "0.0.0.0:8080"}},
	{"tcp4://:8080", sock.Addr{"tcp4", "0.0.0.0:8080"}},
	{"tcp6://:8080", sock.Addr{"tcp6", "[::]:8080"}},
	{"tcp://[::ffff:127.0.0.1]:80", sock.Addr{"tcp4", "127.0.0.1:80"}},
	{"tcp4://[::ffff:127.0.0.1]:80", sock.Addr{"tcp4", "127.0.0.1:80"}},
	{"tcp6://[::ffff:127.0.0.1]:80", sock.Addr{"tcp6", "[::ffff:127.0.0.1]:80"}},
	{"tcp://[fe80::1%eth0]:80", sock.Addr{"tcp6", "[fe80::1%eth0]:80"}},
	{"127.0.0.1:0080", sock.Addr{"tcp4", "127.0.0.1:80"}},
	{"tcp://127.0.0.1:65535", sock.Addr{"tcp4", "127.0.0.1:65535"}},
	{"tcp4://localhost:80", sock.Addr{"tcp4", "127.0.0.1:80"}},
	{"unix:///tmp/x.sock", sock.Addr{"unix", "/tmp/x.sock"}},
	{"unix://x.sock", sock.Addr{"unix", "x.sock"}},
	{"unix://run/x.sock", sock.Addr{"unix", "run/x.sock"}},
	{"unix://@pinion", sock.Addr{"unix", "@pinion"}},
}

func TestParseAddr(t *testing.T) {
	for _, tt := range parseTests {
		got, err := sock.ParseAddr(tt.in)
		if err != nil {
			t.Errorf("ParseAddr(%q): unexpected error: %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseAddr(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestParseAddrErrors(t *testing.T) {
	tests := []struct {
		in, reason string
	}{
		{"", "missing port in address"},
		{"127.0.0.1", "missing port in address"},
		{"/tmp/x.sock", "missing port in address"},
		{"127.0.0.1:", "missing port"},
		{"127.0.0.1:http", `invalid port "http"`},
		{"127.0.0.1:65536", `invalid port "65536"`},
		{"127.0.0.1:-1", `invalid port "-1"`},
		{"::1:80", "too many colons in address"},
		{"udp://127.0.0.1:53", `unsupported network "udp"`},
		{"TCP://127.0.0.1:53", `unsupported network "TCP"`},
		{"unix://", "missing socket path"},
		{"tcp4://[::1]:80", "::1 is not an IPv4 address"},
		{"tcp6://127.0.0.1:80", "127.0.0.1 is not an IPv6 address"},
	}
	for _, tt := range tests {
		a, err := sock.ParseAddr(tt.in)
		if err == nil {
			t.Errorf("ParseAddr(%q) = %+v, want an error containing %q", tt.in, a, tt.reason)
			continue
		}
		prefix := `sock: parse address "` + tt.in + `": `
		if msg := err.Error(); !strings.HasPrefix(msg, prefix) || !strings.Contains(msg, tt.reason) {
			t.Errorf("ParseAddr(%q) error = %q, want %q followed by %q", tt.in, msg, prefix, tt.reason)
		}
	}
}

func TestAddrStringRoundTrip(t *testing.T) {
	for _, tt := range parseTests {
		s := tt.want.String()
		got, err := sock.ParseAddr(s)
		if err != nil {
			t.Errorf("ParseAddr(%q): %v", s, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseAddr(%q) = %+v, want %+v", s, got, tt.want)
		}
	}
}

// FuzzParseAddr checks that whatever ParseAddr accepts it accepts again in
// the String form, unchanged. Inputs with a host name are skipped: they would
// query the resolver.
func FuzzParseAddr(f *testing.F) {
	for _, tt := range parseTests {
		f.Add(tt.in)
	}
	f.Add("tcp6://[fe80::1%25]:1")
	f.Add("unix://a://b")
	f.Fuzz(func(t *testing.T, s string) {
		if needsResolver(s) {
			t.Skip("host name")
		}
		a, err := sock.ParseAddr(s)
		if err != nil {
			return
		}
		switch a.Network {
		case "tcp4", "tcp6", "unix":
		default:
			t.Fatalf("ParseAddr(%q).Network = %q, want tcp4, tcp6 or unix", s, a.Network)
		}
		b, err := sock.ParseAddr(a.String())
		if err != nil {
			t.Fatalf("ParseAddr(%q) = %+v, but ParseAddr(%q) fails: %v", s, a, a.String(), err)
		}
		if b != a {
			t.Fatalf("ParseAddr(%q) = %+v, but ParseAddr(%q) = %+v", s, a, a.String(), b)
		}
	})
}

// needsResolver reports whether s names a TCP host that is not an IP
// literal.
func needsResolver(s string) bool {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		rest = s
	} else if scheme == "unix" {
		return false
	}
	host, _, err := net.SplitHostPort(rest)
	if err != nil || host == "" {
		return false
	}
	_, err = netip.ParseAddr(host)
	return err != nil
}
