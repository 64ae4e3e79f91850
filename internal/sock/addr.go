package sock

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// Addr is a parsed listen or dial address.
type Addr struct {
	Network string // "tcp4", "tcp6" or "unix"
	Address string // "127.0.0.1:8080", "[::1]:0", "/tmp/x.sock"
}

// ParseAddr parses a listen or dial address. It accepts "tcp://host:port",
// "tcp4://host:port", "tcp6://[host]:port", "unix:///path" (and
// "unix://relative" for a path relative to the working directory), and a bare
// "host:port", which means tcp.
//
// For tcp the network is decided by the IP address: an IPv4 literal (or an
// IPv4-mapped IPv6 literal) gives tcp4, any other IPv6 literal gives tcp6.
// A host name is resolved with net.ResolveTCPAddr and the first address wins.
// An empty host (":8080") means 0.0.0.0 for tcp and tcp4 and [::] for tcp6.
// The port must be a decimal number from 0 to 65535; port 0 asks Listen for
// any free port.
//
// The returned Address is always an IP literal and port, or a socket path,
// so Listen and Dial do no name resolution. Errors read
// `sock: parse address "x": reason`.
func ParseAddr(s string) (Addr, error) {
	a, err := parseAddr(s)
	if err != nil {
		return Addr{}, fmt.Errorf("sock: parse address %q: %w", s, err)
	}
	return a, nil
}

// String returns the address in the form ParseAddr accepts, such as
// "tcp4://127.0.0.1:8080" or "unix:///tmp/x.sock".
func (a Addr) String() string {
	return a.Network + "://" + a.Address
}

func parseAddr(s string) (Addr, error) {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		scheme, rest = "tcp", s
	}
	switch scheme {
	case "tcp", "tcp4", "tcp6":
		return parseTCP(scheme, rest)
	case "unix":
		if rest == "" {
			return Addr{}, errors.New("missing socket path")
		}
		return Addr{Network: "unix", Address: rest}, nil
	default:
		return Addr{}, fmt.Errorf("unsupported network %q (want tcp, tcp4, tcp6 or unix)", scheme)
	}
}

// parseTCP turns host:port into a canonical tcp4 or tcp6 Addr. network is
// "tcp", "tcp4" or "tcp6"; plain "tcp" is narrowed by the address found.
func parseTCP(network, hostport string) (Addr, error) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		var ae *net.AddrError
		if errors.As(err, &ae) {
			return Addr{}, errors.New(ae.Err)
		}
		return Addr{}, err
	}
	if port == "" {
		return Addr{}, errors.New("missing port")
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return Addr{}, fmt.Errorf("invalid port %q (want a number from 0 to 65535)", port)
	}
	ip, err := resolveHost(network, host, port)
	if err != nil {
		return Addr{}, err
	}
	switch {
	case network == "tcp4" && !ip.Is4():
		return Addr{}, fmt.Errorf("%s is not an IPv4 address", ip)
	case network == "tcp6" && !ip.Is6():
		return Addr{}, fmt.Errorf("%s is not an IPv6 address", ip)
	case network == "tcp" && ip.Is4():
		network = "tcp4"
	case network == "tcp":
		network = "tcp6"
	}
	return Addr{Network: network, Address: netip.AddrPortFrom(ip, uint16(p)).String()}, nil
}

// resolveHost returns the IP address host stands for. For tcp and tcp4 an
// IPv4-mapped IPv6 address is unmapped, as the net package does when it
// picks a socket family, so "[::ffff:127.0.0.1]:80" dials over IPv4.
func resolveHost(network, host, port string) (netip.Addr, error) {
	var ip netip.Addr
	switch {
	case host == "" && network == "tcp6":
		return netip.IPv6Unspecified(), nil
	case host == "":
		return netip.IPv4Unspecified(), nil
	default:
		var err error
		if ip, err = netip.ParseAddr(host); err != nil {
			ta, err := net.ResolveTCPAddr(network, net.JoinHostPort(host, port))
			if err != nil {
				return netip.Addr{}, err
			}
			ip = ta.AddrPort().Addr()
		}
	}
	if network != "tcp6" {
		ip = ip.Unmap()
	}
	return ip, nil
}
