package loop

import (
	"fmt"
	"net"

	"github.com/pinion-net/pinion/internal/sock"
)

// CheckAddr reports whether s is an address Listen and Dial accept
// ("tcp://host:port", "tcp4://...", "tcp6://[::1]:port", "unix:///path"
// or a bare "host:port"), without opening anything.
func CheckAddr(s string) error {
	_, err := sock.ParseAddr(s)
	return err
}

// Listen opens the listening sockets of addr, registers them with loops of
// ls (which then own and close them) and returns the bound address, with
// the real port when addr asked for port 0. With reusePort, over TCP, every
// loop gets a socket of its own in one SO_REUSEPORT group and keeps what it
// accepts; otherwise, and always for unix sockets, one socket registered
// with ls[acceptor] accepts and pick chooses each connection's loop.
// backlog <= 0 means the system's maximum. Call it before the loops run.
func Listen(ls []*Loop, addr string, reusePort bool, backlog, acceptor int, pick func() *Loop) (net.Addr, error) {
	a, err := sock.ParseAddr(addr)
	if err != nil {
		return nil, err
	}
	if reusePort && a.Network != "unix" {
		var first net.Addr
		for i, l := range ls {
			bound, err := l.listen(a, true, backlog, nil)
			if err != nil {
				return nil, err
			}
			if i == 0 {
				first = bound
				// Port 0 picked a port: the other loops must share it.
				a.Address = bound.String()
			}
		}
		return first, nil
	}
	return ls[acceptor].listen(a, false, backlog, pick)
}

// listen opens one listening socket on a and registers it with l.
func (l *Loop) listen(a sock.Addr, reusePort bool, backlog int, pick func() *Loop) (net.Addr, error) {
	fd, bound, err := sock.Listen(a, reusePort, backlog)
	if err != nil {
		return nil, err
	}
	if err := l.AddListener(fd, bound, pick); err != nil {
		_ = sysClose(fd)
		return nil, fmt.Errorf("loop %d: listen %s: %w", l.cfg.ID, bound, err)
	}
	return bound, nil
}
