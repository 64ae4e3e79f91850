//go:build darwin || dragonfly || freebsd

package poller

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// wakeObj is empty here: the wakeup is an EVFILT_USER event inside the kqueue
// itself, so there is no extra fd.
type wakeObj struct{}

// wakeIdent identifies the EVFILT_USER event. User events have their own
// ident space, so it cannot collide with an fd.
const wakeIdent = 0

// openWake adds the user event with EV_CLEAR, so collecting it in Wait resets
// it and the next NOTE_TRIGGER fires again.
func (p *Poller) openWake() error {
	if err := p.change(wakeIdent, unix.EVFILT_USER, unix.EV_ADD|unix.EV_CLEAR, 0); err != nil {
		return fmt.Errorf("poller: kevent add EVFILT_USER: %w", err)
	}
	return nil
}

// signalWake triggers the user event; it stays triggered until a Wait
// collects it.
func (p *Poller) signalWake() error {
	if err := p.change(wakeIdent, unix.EVFILT_USER, 0, unix.NOTE_TRIGGER); err != nil {
		return fmt.Errorf("poller: kevent NOTE_TRIGGER: %w", err)
	}
	return nil
}

func (p *Poller) isWake(ev *unix.Kevent_t) bool { return ev.Filter == unix.EVFILT_USER }

// consumeWake returns the wake state to idle. Collecting the event already
// cleared it (EV_CLEAR), which is the drain that must come first.
func (p *Poller) consumeWake() { p.ws.consumed() }

// closeWake has nothing to release: the user event goes away with the kqueue.
func (p *Poller) closeWake() error { return nil }
