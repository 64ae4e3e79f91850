//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package poller

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// Poller waits for readiness on registered file descriptors; see the package
// documentation for the contract.
//
// Udata is a pointer on most BSDs, so nothing is stored in it. Instead regs,
// indexed by fd, holds each registration's generation, and Wait rebuilds the
// token from the kevent's ident and that generation.
type Poller struct {
	kq   int   // -1 after Close
	regs []reg // per-fd registration, indexed by fd

	evs []unix.Kevent_t // kernel results, reused across Waits
	ts  unix.Timespec   // Wait's timeout, kept here so it never escapes

	wk wakeObj // the per-OS wakeup object; see wake_user.go and wake_pipe.go
	ws wakeState
}

// reg is the poller's view of one fd.
type reg struct {
	gen     uint32
	live    bool     // registered by Add and not deleted since
	added   Interest // filters present in the kernel (EV_ADD done)
	enabled Interest // filters enabled, a subset of added
	eofOnly bool     // the read filter is PeerClose's: low-water mark, EV_CLEAR
}

// eofLowat is the low-water mark of a PeerClose read filter: more than a
// receive buffer holds, so only end of file (EV_EOF, reported whatever the
// mark) fires it. Where the kernel caps the mark at the buffer's size
// (darwin), a full buffer fires it once too: EV_CLEAR keeps that from
// repeating, and the caller ignores a Readable without HangUp on a
// connection it is not reading.
const eofLowat = 1 << 30

func open() (*Poller, error) {
	kq, err := unix.Kqueue()
	if err != nil {
		return nil, fmt.Errorf("poller: kqueue: %w", err)
	}
	unix.CloseOnExec(kq)
	p := &Poller{kq: kq}
	if err := p.openWake(); err != nil {
		unix.Close(kq)
		return nil, err
	}
	return p, nil
}

// change applies one change to the kqueue, retrying on EINTR.
func (p *Poller) change(ident, filter, flags int, fflags uint32) error {
	return p.changeData(ident, filter, flags, fflags, false)
}

// changeData is change with the filter's data (a NOTE_LOWAT mark).
func (p *Poller) changeData(ident, filter, flags int, fflags uint32, lowat bool) error {
	var kev [1]unix.Kevent_t
	unix.SetKevent(&kev[0], ident, filter, flags)
	kev[0].Fflags = fflags
	if lowat {
		kev[0].Data = eofLowat
	}
	for {
		_, err := unix.Kevent(p.kq, kev[:], nil, nil)
		if err != unix.EINTR {
			return err
		}
	}
}

// kfilter returns the kqueue filter behind one interest bit (each bit has its
// own filter, hence its own knote) and its name for
// error messages.
func kfilter(in Interest) (int, string) {
	if in == Read {
		return unix.EVFILT_READ, "EVFILT_READ"
	}
	return unix.EVFILT_WRITE, "EVFILT_WRITE"
}

func (p *Poller) add(fd int, tok Token, in Interest) error {
	if p.kq < 0 {
		return ErrClosed
	}
	if err := checkToken(fd, tok); err != nil {
		return err
	}
	if fd >= len(p.regs) {
		p.regs = append(p.regs, make([]reg, fd+1-len(p.regs))...)
	}
	// A live entry here means the fd was closed without Delete and its number
	// reused (kqueue dropped the filters on close) or Add was called twice;
	// setting the filters below is right in both cases.
	return p.set(fd, tok, in, "add")
}

func (p *Poller) modify(fd int, tok Token, in Interest) error {
	if p.kq < 0 {
		return ErrClosed
	}
	if err := checkToken(fd, tok); err != nil {
		return err
	}
	if fd >= len(p.regs) || !p.regs[fd].live {
		return fmt.Errorf("poller: kevent modify fd %d: %w", fd, unix.ENOENT)
	}
	return p.set(fd, tok, in, "modify")
}

// set makes the kernel filters of fd match in. A wanted filter gets
// EV_ADD|EV_ENABLE, which creates it or re-enables it; an unwanted filter that
// exists gets EV_DISABLE, which keeps the knote for a cheap re-enable. ENOENT
// on EV_DISABLE means the kernel already dropped the filter (the fd was
// closed), which is what was asked for.
func (p *Poller) set(fd int, tok Token, in Interest, op string) error {
	r := &p.regs[fd]
	if err := p.setEOFOnly(fd, r, in&(Read|PeerClose) == PeerClose); err != nil {
		return fmt.Errorf("poller: kevent %s fd %d EVFILT_READ: %w", op, fd, err)
	}
	for _, bit := range [...]Interest{Read, Write} {
		if bit == Read && r.eofOnly {
			continue // set by setEOFOnly
		}
		filter, name := kfilter(bit)
		switch {
		case in&bit != 0:
			if err := p.change(fd, filter, unix.EV_ADD|unix.EV_ENABLE, 0); err != nil {
				return fmt.Errorf("poller: kevent %s fd %d %s: %w", op, fd, name, err)
			}
			r.added |= bit
			r.enabled |= bit
		case r.enabled&bit != 0:
			err := p.change(fd, filter, unix.EV_DISABLE, 0)
			if errors.Is(err, unix.ENOENT) {
				r.added &^= bit
				err = nil
			}
			if err != nil {
				return fmt.Errorf("poller: kevent %s fd %d %s: %w", op, fd, name, err)
			}
			r.enabled &^= bit
		}
	}
	r.gen, r.live = tok.Gen(), true
	return nil
}

// setEOFOnly switches fd's read filter between the PeerClose form and the
// plain one. The flags and mark of a knote are not reset by a later EV_ADD
// everywhere, so a switch deletes the filter and adds it anew.
func (p *Poller) setEOFOnly(fd int, r *reg, want bool) error {
	if r.eofOnly == want {
		return nil
	}
	if r.added&Read != 0 {
		if err := p.change(fd, unix.EVFILT_READ, unix.EV_DELETE, 0); err != nil && !errors.Is(err, unix.ENOENT) {
			return err
		}
		r.added &^= Read
		r.enabled &^= Read
	}
	r.eofOnly = false
	if !want {
		return nil
	}
	if err := p.changeData(fd, unix.EVFILT_READ, unix.EV_ADD|unix.EV_ENABLE|unix.EV_CLEAR, unix.NOTE_LOWAT, true); err != nil {
		return err
	}
	r.added |= Read
	r.enabled |= Read
	r.eofOnly = true
	return nil
}

func (p *Poller) delete(fd int) error {
	if p.kq < 0 {
		return ErrClosed
	}
	if fd < 0 || fd >= len(p.regs) || !p.regs[fd].live {
		return fmt.Errorf("poller: kevent delete fd %d: %w", fd, unix.ENOENT)
	}
	r := &p.regs[fd]
	added := r.added
	*r = reg{}
	// Only filters that were added are deleted; ENOENT still means the kernel
	// dropped one already (the fd was closed), so it is not an error.
	for _, bit := range [...]Interest{Read, Write} {
		if added&bit == 0 {
			continue
		}
		filter, name := kfilter(bit)
		if err := p.change(fd, filter, unix.EV_DELETE, 0); err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("poller: kevent delete fd %d %s: %w", fd, name, err)
		}
	}
	return nil
}

// wait reports the read and write filters of one fd as separate Events, in
// the order the kernel returns them; it does not merge them.
func (p *Poller) wait(events []Event, timeout time.Duration) (int, error) {
	if p.kq < 0 {
		return 0, ErrClosed
	}
	if len(events) == 0 {
		return 0, errNoRoom
	}
	if len(p.evs) < len(events) {
		p.evs = make([]unix.Kevent_t, len(events))
	}
	evs := p.evs[:len(events)]
	var tsp *unix.Timespec
	if timeout >= 0 {
		p.ts = unix.NsecToTimespec(int64(timeout))
		tsp = &p.ts
	}
	n, err := unix.Kevent(p.kq, nil, evs, tsp)
	if err != nil {
		if err == unix.EINTR {
			return 0, nil
		}
		return 0, fmt.Errorf("poller: kevent wait: %w", err)
	}
	filled := 0
	for i := range n {
		ev := &evs[i]
		if p.isWake(ev) {
			p.consumeWake()
			continue
		}
		fd := int(ev.Ident)
		if fd >= len(p.regs) || !p.regs[fd].live {
			continue // deleted since the kernel queued it
		}
		events[filled] = Event{Token: NewToken(fd, p.regs[fd].gen), Flags: keventFlags(ev)}
		filled++
	}
	return filled, nil
}

// keventFlags maps one kevent to Flags. EV_EOF keeps the filter's own flag
// (a read filter at EOF is still readable: it returns end of file). With
// EV_EOF, fflags holds the socket error if there is one (kevent(2)).
func keventFlags(ev *unix.Kevent_t) Flags {
	var f Flags
	switch ev.Filter {
	case unix.EVFILT_READ:
		f |= Readable
	case unix.EVFILT_WRITE:
		f |= Writable
	}
	if ev.Flags&unix.EV_EOF != 0 {
		f |= HangUp
		if ev.Fflags != 0 {
			f |= Error
		}
	}
	if ev.Flags&unix.EV_ERROR != 0 {
		f |= Error
	}
	return f
}

func (p *Poller) wake() error {
	win, err := p.ws.arm()
	if !win {
		return err
	}
	err = p.signalWake()
	p.ws.signalled(err)
	return err
}

func (p *Poller) close() error {
	if !p.ws.shut() {
		return ErrClosed
	}
	var errs []error
	if err := p.closeWake(); err != nil {
		errs = append(errs, err)
	}
	if err := unix.Close(p.kq); err != nil {
		errs = append(errs, fmt.Errorf("poller: close kqueue: %w", err))
	}
	p.kq = -1
	p.regs = nil
	return errors.Join(errs...)
}
