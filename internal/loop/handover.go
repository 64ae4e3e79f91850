package loop

import (
	"net"
	"os"

	"github.com/pinion-net/pinion/internal/sock"
)

// Handed is a duplicate of one of a loop's listening sockets, for handing
// to another process.
type Handed struct {
	File *os.File // close-on-exec, the receiver's to close
	Addr net.Addr
}

// HandOver duplicates the loop's listening sockets on the loop's goroutine
// (where they cannot be closed meanwhile) and passes the duplicates to
// done, also run on the loop, or the first error, after closing those
// already made. The loop keeps serving on its own. Safe from any
// goroutine; it returns ErrLoopClosed if the loop has stopped, and then
// done never runs.
func (l *Loop) HandOver(done func([]Handed, error)) error {
	return l.Post(func() {
		var hs []Handed
		for _, ln := range l.listeners {
			fd, err := sock.DupListener(ln.fd)
			if err != nil {
				for _, h := range hs {
					_ = h.File.Close()
				}
				done(nil, err)
				return
			}
			hs = append(hs, Handed{File: os.NewFile(uintptr(fd), ln.addr.String()), Addr: ln.addr})
		}
		done(hs, nil)
	})
}
