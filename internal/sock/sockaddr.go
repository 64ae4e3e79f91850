//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package sock

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"

	"golang.org/x/sys/unix"
)

// LocalAddr returns the address fd is bound to (getsockname(2)) as a
// *net.TCPAddr or *net.UnixAddr, or nil if it cannot be read.
func LocalAddr(fd int) net.Addr {
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return nil
	}
	return netAddr(sa)
}

// PeerAddr returns the address of fd's peer (getpeername(2)) as a
// *net.TCPAddr or *net.UnixAddr, or nil if it cannot be read, for example
// because fd is not connected. It is computed on demand so that accepted
// connections do not carry an address they may never need.
func PeerAddr(fd int) net.Addr {
	sa, err := unix.Getpeername(fd)
	if err != nil {
		return nil
	}
	return netAddr(sa)
}

// IsTCP reports whether fd is a TCP socket: an IPv4 or IPv6 socket of type
// SOCK_STREAM. It reports false when fd is not a socket or is closed.
func IsTCP(fd int) bool {
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return false
	}
	switch sa.(type) {
	case *unix.SockaddrInet4, *unix.SockaddrInet6:
	default:
		return false
	}
	typ, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE)
	return err == nil && typ == unix.SOCK_STREAM
}

// sockaddr converts a into the socket domain and address for socket(2),
// bind(2) and connect(2). An Addr built by hand rather than by ParseAddr is
// parsed again, so "tcp://localhost:80" works here too.
func sockaddr(a Addr) (domain int, sa unix.Sockaddr, err error) {
	if a.Network == "unix" {
		if a.Address == "" {
			return 0, nil, errors.New("missing socket path")
		}
		return unix.AF_UNIX, &unix.SockaddrUnix{Name: a.Address}, nil
	}
	switch a.Network {
	case "tcp", "tcp4", "tcp6":
	default:
		return 0, nil, fmt.Errorf("unsupported network %q (want tcp4, tcp6 or unix)", a.Network)
	}
	c, err := parseTCP(a.Network, a.Address)
	if err != nil {
		return 0, nil, err
	}
	ap := netip.MustParseAddrPort(c.Address) // parseTCP formats it from a netip.AddrPort
	if c.Network == "tcp4" {
		return unix.AF_INET, &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}, nil
	}
	zone, err := zoneIndex(ap.Addr().Zone())
	if err != nil {
		return 0, nil, err
	}
	return unix.AF_INET6, &unix.SockaddrInet6{Port: int(ap.Port()), ZoneId: zone, Addr: ap.Addr().As16()}, nil
}

// zoneIndex maps an IPv6 zone ("eth0" or "2") to the interface index that
// sockaddr_in6 carries in sin6_scope_id.
func zoneIndex(zone string) (uint32, error) {
	if zone == "" {
		return 0, nil
	}
	if n, err := strconv.ParseUint(zone, 10, 32); err == nil {
		return uint32(n), nil
	}
	ifi, err := net.InterfaceByName(zone)
	if err != nil {
		return 0, fmt.Errorf("IPv6 zone %q: %w", zone, err)
	}
	return uint32(ifi.Index), nil
}

// zoneName is the inverse of zoneIndex. It falls back to the number when the
// interface is gone.
func zoneName(index uint32) string {
	if index == 0 {
		return ""
	}
	if ifi, err := net.InterfaceByIndex(int(index)); err == nil {
		return ifi.Name
	}
	return strconv.FormatUint(uint64(index), 10)
}

// netAddr converts a kernel socket address into the net package's form. The
// IP addresses are copied, so the result does not alias sa.
func netAddr(sa unix.Sockaddr) net.Addr {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		ap := netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
		return net.TCPAddrFromAddrPort(ap)
	case *unix.SockaddrInet6:
		ip := netip.AddrFrom16(sa.Addr).WithZone(zoneName(sa.ZoneId))
		return net.TCPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(sa.Port)))
	case *unix.SockaddrUnix:
		return &net.UnixAddr{Name: sa.Name, Net: "unix"}
	}
	return nil
}
