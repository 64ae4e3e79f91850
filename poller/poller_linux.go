package poller

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Poller waits for readiness on registered file descriptors; see the package
// documentation for the contract.
type Poller struct {
	epfd int // -1 after Close
	efd  int // eventfd used by Wake

	evs   []unix.EpollEvent // kernel results, reused across Waits
	drain [8]byte           // buffer for reading the eventfd counter
	one   [8]byte           // the counter increment Wake writes

	ws wakeState
}

// wakeToken marks the eventfd in the epoll data. Its fd half is -1, which no
// registration can carry, because checkToken requires a valid fd.
const wakeToken = ^Token(0)

func open() (*Poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("poller: epoll_create1: %w", err)
	}
	efd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(epfd)
		return nil, fmt.Errorf("poller: eventfd: %w", err)
	}
	p := &Poller{epfd: epfd, efd: efd}
	binary.NativeEndian.PutUint64(p.one[:], 1)
	ev := epollEvent(wakeToken, unix.EPOLLIN)
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, efd, &ev); err != nil {
		unix.Close(efd)
		unix.Close(epfd)
		return nil, fmt.Errorf("poller: epoll_ctl add eventfd %d: %w", efd, err)
	}
	return p, nil
}

// epollEvent packs tok into the 8-byte epoll data, which x/sys exposes as
// two int32 fields: the low half in Fd, the high half in Pad.
func epollEvent(tok Token, events uint32) unix.EpollEvent {
	return unix.EpollEvent{Events: events, Fd: int32(uint32(tok)), Pad: int32(uint32(tok >> 32))}
}

// epollEvents maps an interest set to epoll flags. EPOLLRDHUP comes with Read
// so a half-close is reported as HangUp; alone (PeerClose) it reports the
// half-close without the readiness of the bytes before it, since epoll
// masks what a socket reports with the registered events.
func epollEvents(in Interest) uint32 {
	var e uint32
	if in&Read != 0 {
		e |= unix.EPOLLIN | unix.EPOLLRDHUP
	}
	if in&PeerClose != 0 {
		e |= unix.EPOLLRDHUP
	}
	if in&Write != 0 {
		e |= unix.EPOLLOUT
	}
	return e
}

func (p *Poller) add(fd int, tok Token, in Interest) error {
	return p.ctl(unix.EPOLL_CTL_ADD, "add", fd, tok, in)
}

func (p *Poller) modify(fd int, tok Token, in Interest) error {
	return p.ctl(unix.EPOLL_CTL_MOD, "modify", fd, tok, in)
}

func (p *Poller) ctl(op int, name string, fd int, tok Token, in Interest) error {
	if p.epfd < 0 {
		return ErrClosed
	}
	if err := checkToken(fd, tok); err != nil {
		return err
	}
	ev := epollEvent(tok, epollEvents(in))
	if err := unix.EpollCtl(p.epfd, op, fd, &ev); err != nil {
		return fmt.Errorf("poller: epoll_ctl %s fd %d: %w", name, fd, err)
	}
	return nil
}

func (p *Poller) delete(fd int) error {
	if p.epfd < 0 {
		return ErrClosed
	}
	// Since Linux 2.6.9 EPOLL_CTL_DEL ignores the event argument, so nil is
	// fine.
	if err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, fd, nil); err != nil {
		return fmt.Errorf("poller: epoll_ctl delete fd %d: %w", fd, err)
	}
	return nil
}

func (p *Poller) wait(events []Event, timeout time.Duration) (int, error) {
	if p.epfd < 0 {
		return 0, ErrClosed
	}
	if len(events) == 0 {
		return 0, errNoRoom
	}
	if len(p.evs) < len(events) {
		p.evs = make([]unix.EpollEvent, len(events))
	}
	evs := p.evs[:len(events)]
	n, errno := p.epollWait(evs, timeout)
	switch errno {
	case 0:
	case unix.EINTR:
		return 0, nil
	default:
		return 0, fmt.Errorf("poller: epoll_pwait: %w", errno)
	}
	filled := 0
	for i := range n {
		ev := &evs[i]
		tok := Token(uint32(ev.Fd)) | Token(uint32(ev.Pad))<<32
		if tok == wakeToken {
			p.consumeWake()
			continue
		}
		events[filled] = Event{Token: tok, Flags: epollFlags(ev.Events)}
		filled++
	}
	return filled, nil
}

// epollWait calls epoll_pwait with a nil signal mask, which is epoll_wait on
// every architecture (arm64 has no epoll_wait). A zero timeout cannot block,
// so it uses RawSyscall6 and skips the scheduler's entersyscall/exitsyscall
// bookkeeping; a blocking wait must use Syscall6 so the runtime can hand the
// P to another thread.
func (p *Poller) epollWait(evs []unix.EpollEvent, timeout time.Duration) (int, unix.Errno) {
	// evs is backed by p.evs, a heap slice that stays reachable through p
	// for the whole call, so the kernel writes into live, unmoving memory.
	ptr := uintptr(unsafe.Pointer(unsafe.SliceData(evs)))
	var r uintptr
	var errno unix.Errno
	if timeout == 0 {
		r, _, errno = unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(p.epfd), ptr, uintptr(len(evs)), 0, 0, 0)
	} else {
		r, _, errno = unix.Syscall6(unix.SYS_EPOLL_PWAIT, uintptr(p.epfd), ptr, uintptr(len(evs)), uintptr(timeoutMillis(timeout)), 0, 0)
	}
	return int(r), errno
}

// timeoutMillis converts timeout to the milliseconds epoll takes, rounding up
// so a timer never fires early (1µs becomes 1ms). Negative means forever (-1);
// timeouts beyond what an int can carry are clamped.
func timeoutMillis(timeout time.Duration) int32 {
	if timeout < 0 {
		return -1
	}
	if timeout >= (math.MaxInt32-1)*time.Millisecond {
		return math.MaxInt32
	}
	return int32((timeout + time.Millisecond - 1) / time.Millisecond)
}

// epollFlags maps epoll results to Flags. A hang-up also sets Readable: an
// empty pipe whose writer closed reports only EPOLLHUP, and the reader must
// still be told to read its end of file.
func epollFlags(e uint32) Flags {
	var f Flags
	if e&unix.EPOLLIN != 0 {
		f |= Readable
	}
	if e&unix.EPOLLOUT != 0 {
		f |= Writable
	}
	if e&(unix.EPOLLRDHUP|unix.EPOLLHUP) != 0 {
		f |= HangUp | Readable
	}
	if e&unix.EPOLLERR != 0 {
		f |= Error
	}
	return f
}

// consumeWake drains the eventfd and returns the wake state to idle, in that
// order (see wakeState). The read can only fail with EAGAIN, when the counter
// is already zero, which leaves nothing to drain.
func (p *Poller) consumeWake() {
	_, _ = unix.Read(p.efd, p.drain[:])
	p.ws.consumed()
}

func (p *Poller) wake() error {
	win, err := p.ws.arm()
	if !win {
		return err
	}
	// EAGAIN would mean the counter is about to overflow, which one pending
	// increment at a time can never reach; treat it as delivered anyway.
	_, err = unix.Write(p.efd, p.one[:])
	if errors.Is(err, unix.EAGAIN) {
		err = nil
	}
	p.ws.signalled(err)
	if err != nil {
		return fmt.Errorf("poller: eventfd write: %w", err)
	}
	return nil
}

func (p *Poller) close() error {
	if !p.ws.shut() {
		return ErrClosed
	}
	var errs []error
	if err := unix.Close(p.efd); err != nil {
		errs = append(errs, fmt.Errorf("poller: close eventfd: %w", err))
	}
	if err := unix.Close(p.epfd); err != nil {
		errs = append(errs, fmt.Errorf("poller: close epoll fd: %w", err))
	}
	p.epfd, p.efd = -1, -1
	return errors.Join(errs...)
}
