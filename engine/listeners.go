package engine

import (
	"errors"
	"fmt"
	"os"

	"github.com/pinion-net/pinion/internal/loop"
)

// Listener is an already-open listening socket for Config.Listeners: one
// inherited from a service manager (SystemdListeners) or handed over by
// another process.
//
// The engine checks the socket (a listening stream socket, TCP or unix)
// and serves on a duplicate of its descriptor, which it closes at Shutdown.
// File stays the caller's: close it once Start has returned, unless the
// socket is to be handed on again; the kernel keeps queueing connections
// for as long as any descriptor of the socket is open. The socket becomes
// non-blocking (the flag belongs to the socket, so File sees it too).
type Listener struct {
	File *os.File
	// PerLoop marks one socket of a set bound to one TCP address with
	// SO_REUSEPORT, one per loop of the process that made them (a hot
	// restart hands over such a set). With ReusePort balance the socket
	// is served by loop Loop (modulo Config.Loops) alone, as the engine's
	// own per-loop sockets are; a loop left with no socket of the set's
	// address gets a new one that joins its SO_REUSEPORT group. Otherwise,
	// and for every socket without PerLoop, the socket is one listener:
	// it is registered with one loop (in turn) and its connections are
	// spread over the loops by the balance (round robin under ReusePort).
	PerLoop bool
	Loop    int
}

// SystemdListeners returns the sockets that systemd's socket activation
// passed to this process (LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES; see
// sd_listen_fds(3)), each in a Listener whose File is named by
// LISTEN_FDNAMES when it names them. It returns none when the variables are
// absent or name another process, which a child inherits them from. The
// descriptors are marked close-on-exec. The Files are the caller's, as for
// any Listener.
func SystemdListeners() ([]Listener, error) {
	files, err := loop.ListenFDs()
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	ls := make([]Listener, len(files))
	for i, f := range files {
		ls[i] = Listener{File: f}
	}
	return ls, nil
}

// checkListeners validates Config.Listeners before anything is opened.
func checkListeners(ls []Listener) error {
	for i, l := range ls {
		if l.File == nil {
			return fmt.Errorf("engine: Listeners[%d] has no File", i)
		}
		if l.PerLoop && l.Loop < 0 {
			return fmt.Errorf("engine: Listeners[%d] (%s): Loop %d is negative", i, l.File.Name(), l.Loop)
		}
	}
	return nil
}

// adopt serves on Config.Listeners, after the sockets of Config.Addrs.
func (e *Engine) adopt() error {
	if len(e.cfg.Listeners) == 0 {
		return nil
	}
	in := make([]loop.Inherited, len(e.cfg.Listeners))
	for i, l := range e.cfg.Listeners {
		in[i] = loop.Inherited{File: l.File, PerLoop: l.PerLoop, Loop: l.Loop}
	}
	addrs, err := loop.Adopt(e.loops, in, e.cfg.Balance == ReusePort, e.cfg.Backlog,
		len(e.addrs)%len(e.loops), e.balancer())
	if err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	e.addrs = append(e.addrs, addrs...)
	return nil
}

// Listeners returns duplicates of every listening socket the engine serves
// on, for handing to another process: a hot restart passes them (for
// example as exec.Cmd.ExtraFiles) to a new copy of the program, whose
// Config.Listeners reattaches each to its loop, with Config.Addrs left
// empty. The sockets of a per-loop SO_REUSEPORT set come with PerLoop set
// and Loop the loop serving each; the others as one listener each. Every
// File is the caller's to close, and named by its address. The engine
// keeps serving on its own sockets until Shutdown; connections that reach
// the shared sockets meanwhile may be accepted by either process.
//
// It waits for every loop, so it must not be called from a handler
// callback. After Shutdown it returns ErrStopped.
func (e *Engine) Listeners() ([]Listener, error) {
	if e.stopped.Load() {
		return nil, ErrStopped
	}
	type result struct {
		hs  []loop.Handed
		err error
	}
	results := make([]chan result, len(e.loops))
	for i, l := range e.loops {
		ch := make(chan result, 1)
		results[i] = ch
		if err := l.HandOver(func(hs []loop.Handed, err error) { ch <- result{hs, err} }); err != nil {
			ch <- result{nil, ErrStopped}
		}
	}
	var out []Listener
	var first error
	loopsOf := map[string]map[int]bool{} // address → the loops listening on it
	for i, ch := range results {
		r := <-ch
		if r.err != nil && first == nil {
			first = r.err
		}
		for _, h := range r.hs {
			out = append(out, Listener{File: h.File, Loop: i})
			a := h.Addr.String()
			if loopsOf[a] == nil {
				loopsOf[a] = map[int]bool{}
			}
			loopsOf[a][i] = true
		}
	}
	if first != nil {
		for _, l := range out {
			_ = l.File.Close()
		}
		if errors.Is(first, ErrStopped) {
			return nil, ErrStopped
		}
		return nil, fmt.Errorf("engine: handing over listeners: %w", first)
	}
	// Under ReusePort, the sockets of an address that every loop listens
	// on are a per-loop set (with one loop, per-loop and single are the
	// same thing); an acceptor's socket is on one loop only.
	for i := range out {
		l := &out[i]
		l.PerLoop = e.cfg.Balance == ReusePort && len(loopsOf[l.File.Name()]) == len(e.loops)
		if !l.PerLoop {
			l.Loop = 0
		}
	}
	return out, nil
}
