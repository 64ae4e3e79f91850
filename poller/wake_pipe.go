//go:build netbsd || openbsd

package poller

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// wakeObj is a non-blocking pipe whose read end is registered for
// EVFILT_READ; netbsd and openbsd have no EVFILT_USER.
type wakeObj struct {
	r, w  int
	one   [1]byte  // what Wake writes; read-only after open
	drain [64]byte // Wait's read buffer; owner only
}

func (p *Poller) openWake() error {
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		return fmt.Errorf("poller: pipe2: %w", err)
	}
	p.wk.r, p.wk.w = fds[0], fds[1]
	if err := p.change(p.wk.r, unix.EVFILT_READ, unix.EV_ADD, 0); err != nil {
		unix.Close(fds[0])
		unix.Close(fds[1])
		return fmt.Errorf("poller: kevent add wake pipe fd %d: %w", fds[0], err)
	}
	return nil
}

// signalWake writes one byte. EAGAIN means the pipe is full, hence already
// readable, so the wakeup is delivered anyway.
func (p *Poller) signalWake() error {
	_, err := unix.Write(p.wk.w, p.wk.one[:])
	if err != nil && !errors.Is(err, unix.EAGAIN) {
		return fmt.Errorf("poller: wake pipe write: %w", err)
	}
	return nil
}

func (p *Poller) isWake(ev *unix.Kevent_t) bool {
	return ev.Filter == unix.EVFILT_READ && int(ev.Ident) == p.wk.r
}

// consumeWake empties the pipe, then returns the wake state to idle, in that
// order (see wakeState). It stops at EAGAIN, the normal end, or at any other
// error, after which the next Wait simply reports the pipe again.
func (p *Poller) consumeWake() {
	for {
		n, err := unix.Read(p.wk.r, p.wk.drain[:])
		if err != nil || n < len(p.wk.drain) {
			break
		}
	}
	p.ws.consumed()
}

func (p *Poller) closeWake() error {
	errR := unix.Close(p.wk.r)
	errW := unix.Close(p.wk.w)
	if err := errors.Join(errR, errW); err != nil {
		return fmt.Errorf("poller: close wake pipe: %w", err)
	}
	return nil
}
