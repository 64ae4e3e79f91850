package loop

import (
	"fmt"
	"net"
	"os"

	"github.com/pinion-net/pinion/internal/sock"
)

// ErrNotListener is wrapped by Adopt's errors for a socket that is not a
// listening stream socket.
var ErrNotListener = sock.ErrNotListener

// Inherited is an already-open listening socket for Adopt.
type Inherited struct {
	File    *os.File
	PerLoop bool // one of a set of SO_REUSEPORT sockets of one address, one per loop
	Loop    int  // with PerLoop: the loop that serves it alone (modulo the loops)
}

// Adopt registers already-open listening sockets with the loops of ls and
// returns their addresses, one per socket, or one per address for the
// sockets of a per-loop set. Each socket is checked (sock.CheckListener) and
// duplicated: the loops own and close the duplicate, the caller keeps File.
//
// With reusePort, a TCP socket marked PerLoop is served by loop Loop %
// len(ls) alone, as a socket Listen opened would be; a loop left with no
// socket of that address gets a new one, bound to it with SO_REUSEPORT so
// that it joins the set's group. Every other socket is an acceptor:
// registered with the loops in turn from ls[start], its connections go to
// the loop pick chooses. Call it before the loops run.
func Adopt(ls []*Loop, in []Inherited, reusePort bool, backlog, start int, pick func() *Loop) ([]net.Addr, error) {
	var addrs []net.Addr
	var groups []net.Addr         // addresses of per-loop sets, in order
	served := map[string][]bool{} // per-loop set's address → loops serving it
	for i, s := range in {
		fd, bound, err := adoptFile(s.File)
		if err != nil {
			return nil, fmt.Errorf("Listeners[%d] (%s): %w", i, s.File.Name(), err)
		}
		_, isTCP := bound.(*net.TCPAddr)
		l, p := ls[(start+i)%len(ls)], pick
		if reusePort && s.PerLoop && isTCP {
			l, p = ls[s.Loop%len(ls)], nil
		}
		if err := l.AddListener(fd, bound, p); err != nil {
			_ = sysClose(fd)
			return nil, fmt.Errorf("Listeners[%d] (%s): loop %d: %w", i, s.File.Name(), l.cfg.ID, err)
		}
		if p != nil || !isTCP || !reusePort || !s.PerLoop {
			addrs = append(addrs, bound)
			continue
		}
		key := bound.String()
		if served[key] == nil {
			served[key] = make([]bool, len(ls))
			groups = append(groups, bound)
			addrs = append(addrs, bound)
		}
		served[key][s.Loop%len(ls)] = true
	}
	for _, bound := range groups {
		a := sock.Addr{Network: "tcp6", Address: bound.String()}
		if bound.(*net.TCPAddr).IP.To4() != nil {
			a.Network = "tcp4"
		}
		for i, ok := range served[bound.String()] {
			if ok {
				continue
			}
			if _, err := ls[i].listen(a, true, backlog, nil); err != nil {
				return nil, fmt.Errorf("loop %d: joining the SO_REUSEPORT group of the adopted %s: %w", i, bound, err)
			}
		}
	}
	return addrs, nil
}

// adoptFile checks f's socket and returns a duplicate of its fd for a loop.
func adoptFile(f *os.File) (fd int, bound net.Addr, err error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return -1, nil, err
	}
	cerr := rc.Control(func(raw uintptr) {
		if bound, err = sock.CheckListener(int(raw)); err == nil {
			fd, err = sock.DupListener(int(raw))
		}
	})
	if cerr != nil {
		return -1, nil, cerr
	}
	return fd, bound, err
}

// ListenFDs returns the listening sockets systemd's socket activation
// passed to this process (sock.ListenFDs with this process's environment
// and pid).
func ListenFDs() ([]*os.File, error) { return sock.ListenFDs(os.Getenv, os.Getpid()) }
