//go:build linux && (amd64 || arm64)

package uring

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Ring is one io_uring instance with its provided-buffer ring and wakeup.
// See the package documentation for which goroutine may call what.
type Ring struct {
	fd   int
	mode Mode
	cfg  Config

	features uint32
	opcodes  [probeMaxOps / 64]uint64

	// Mappings. When the kernel shares one mapping for both rings
	// (FeatSingleMmap), cqMem aliases sqMem and is not unmapped twice.
	sqMem, cqMem, sqeMem []byte

	// Submission ring. sqTail is our copy of the tail, published to the
	// kernel by Submit; sqHead is the kernel's.
	sqHead, sqTailPtr *uint32
	sqMask, sqEntries uint32
	sqTail            uint32
	sqes              []sqe

	// Completion ring. cqHead is ours, cqTail the kernel's.
	cqHeadPtr, cqTailPtr *uint32
	cqMask               uint32
	cqes                 []cqe

	// scratch holds what the kernel reads at submission (message headers and
	// iovecs, one slot per submission entry) and the wakeup counter it writes.
	scratch   []byte
	slotSize  int
	wakeCount *uint64

	bufs         bufRing
	wake         wakeState
	efd          int
	wakeDisarmed bool // the eventfd read completed and is not armed again yet

	closed bool
	stats  Stats
}

// Stats counts what the owner did with the ring.
type Stats struct {
	Enters      uint64 // io_uring_enter system calls
	Submitted   uint64 // entries the kernel accepted
	Completions uint64 // completions returned by Reap
	Wakeups     uint64 // wakeups consumed
	NoBuffers   uint64 // receive completions that ended with ENOBUFS
}

// setupRung is one step of the fallback ladder.
type setupRung struct {
	mode  Mode
	flags uint32
}

var ladder = [...]setupRung{
	{ModeDeferTaskrun, setupSingleIssuer | setupDeferTaskrun},
	{ModeSingleIssuer, setupSingleIssuer | setupCoopTaskrun | setupTaskrunFlag},
	{ModeCoopTaskrun, setupCoopTaskrun | setupTaskrunFlag},
	{ModePlain, 0},
}

// requiredFeatures are the feature bits the backend relies on: no dropped
// completions, entries consumed at submission (so message headers may be
// reused after Submit), poll-driven retries of socket operations instead of
// worker threads, and a timeout passed to the wait.
const requiredFeatures = FeatNoDrop | FeatSubmitStable | FeatFastPoll | FeatExtArg

// requiredOpcodes are the operations the backend prepares.
var requiredOpcodes = [...]uint8{
	opcodeNop, opcodePollAdd, opcodeAccept, opcodeRecv, opcodeSend, opcodeSendmsg,
	opcodeClose, opcodeAsyncCancel, opcodeRead, opcodeShutdown,
}

// New sets up a ring: the best rung of the setup ladder the kernel accepts,
// the three mappings, a probe of features and opcodes, the provided-buffer
// ring, the wakeup, and a self-test of multishot receive. It must run on the
// goroutine that will own the ring, locked to its OS thread. When the ring
// cannot be used the error is an *UnavailableError saying why.
func New(cfg Config) (*Ring, error) {
	if cfg.ForceUnavailable {
		return nil, &UnavailableError{Reason: ReasonForced, Detail: "Config.ForceUnavailable is set"}
	}
	cfg = cfg.withDefaults()
	if err := cfg.check(); err != nil {
		return nil, err
	}
	r := &Ring{cfg: cfg, fd: -1, efd: -1}
	if err := r.setup(); err != nil {
		return nil, err
	}
	if err := r.init(); err != nil {
		r.release()
		return nil, err
	}
	return r, nil
}

func (c Config) check() error {
	if c.BufferCount&(c.BufferCount-1) != 0 || c.BufferCount > 1<<15 {
		return fmt.Errorf("uring: BufferCount %d is not a power of two up to 32768", c.BufferCount)
	}
	if c.MaxIovecs < 1 || c.MaxIovecs > 1024 {
		return fmt.Errorf("uring: MaxIovecs %d is not in 1..1024", c.MaxIovecs)
	}
	return nil
}

// setup walks the ladder from cfg.Mode down until the kernel accepts a set of
// flags. EINVAL means "flag unknown to this kernel" and moves one rung down;
// any other error ends the walk with its reason.
func (r *Ring) setup() error {
	var last error
	for _, rung := range ladder {
		if rung.mode < r.cfg.Mode {
			continue
		}
		p := params{flags: rung.flags | setupCQSize | setupClamp, cqEntries: r.cfg.CQEntries}
		fd, _, errno := unix.Syscall(unix.SYS_IO_URING_SETUP, uintptr(r.cfg.Entries), uintptr(unsafe.Pointer(&p)), 0)
		if errno == 0 {
			r.fd, r.mode = int(fd), rung.mode
			return r.mapRings(&p)
		}
		if errno != unix.EINVAL {
			return setupError(errno)
		}
		last = errno
	}
	return &UnavailableError{Reason: ReasonMissingFeature, Detail: "io_uring_setup refused every flag set", Err: last}
}

// setupError classifies a failed io_uring_setup.
func setupError(errno unix.Errno) error {
	e := &UnavailableError{Reason: ReasonOther, Err: errno}
	switch errno {
	case unix.EPERM, unix.EACCES:
		switch disabledSysctl() {
		case "2":
			e.Reason, e.Detail = ReasonDisabled, "kernel.io_uring_disabled = 2"
		case "1":
			e.Reason, e.Detail = ReasonDisabled, "kernel.io_uring_disabled = 1 and the process is not in kernel.io_uring_group"
		default:
			e.Reason, e.Detail = ReasonPermission, "io_uring_setup refused while kernel.io_uring_disabled allows it: a seccomp filter or security module"
		}
	case unix.ENOSYS:
		e.Reason, e.Detail = ReasonNoSyscall, "no io_uring_setup: kernel without io_uring or a seccomp filter"
	case unix.ENOMEM, unix.EMFILE, unix.ENFILE:
		e.Reason = ReasonResources
	}
	return e
}

// disabledSysctl returns the value of kernel.io_uring_disabled, or "" when it
// cannot be read (kernels before 6.6 have no such sysctl).
func disabledSysctl() string {
	var b [8]byte
	fd, err := unix.Open("/proc/sys/kernel/io_uring_disabled", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return ""
	}
	defer unix.Close(fd)
	n, err := unix.Read(fd, b[:])
	if err != nil || n == 0 {
		return ""
	}
	return string(b[:1])
}

// mapRings maps the submission ring, the completion ring (one mapping for
// both with FeatSingleMmap) and the submission entries.
func (r *Ring) mapRings(p *params) error {
	r.features = p.features
	sqSize := int(p.sqOff.array) + int(p.sqEntries)*4
	cqSize := int(p.cqOff.cqes) + int(p.cqEntries)*int(unsafe.Sizeof(cqe{}))
	single := p.features&FeatSingleMmap != 0
	if single {
		sqSize = max(sqSize, cqSize)
	}
	var err error
	if r.sqMem, err = mmapRing(r.fd, offSQRing, sqSize); err != nil {
		return err
	}
	r.cqMem = r.sqMem
	if !single {
		if r.cqMem, err = mmapRing(r.fd, offCQRing, cqSize); err != nil {
			return err
		}
	}
	if r.sqeMem, err = mmapRing(r.fd, offSQEs, int(p.sqEntries)*int(unsafe.Sizeof(sqe{}))); err != nil {
		return err
	}

	r.sqHead = u32At(r.sqMem, p.sqOff.head)
	r.sqTailPtr = u32At(r.sqMem, p.sqOff.tail)
	r.sqMask = *u32At(r.sqMem, p.sqOff.ringMask)
	r.sqEntries = *u32At(r.sqMem, p.sqOff.ringEntries)
	r.sqTail = atomic.LoadUint32(r.sqTailPtr)
	// The index array maps ring slot i to entry i once and for all.
	for i := range r.sqEntries {
		*u32At(r.sqMem, p.sqOff.array+4*i) = i
	}
	r.sqes = unsafe.Slice((*sqe)(unsafe.Pointer(&r.sqeMem[0])), r.sqEntries)

	r.cqHeadPtr = u32At(r.cqMem, p.cqOff.head)
	r.cqTailPtr = u32At(r.cqMem, p.cqOff.tail)
	r.cqMask = *u32At(r.cqMem, p.cqOff.ringMask)
	r.cqes = unsafe.Slice((*cqe)(unsafe.Pointer(&r.cqMem[p.cqOff.cqes])), *u32At(r.cqMem, p.cqOff.ringEntries))
	return nil
}

func mmapRing(fd int, off int64, size int) ([]byte, error) {
	b, err := unix.Mmap(fd, off, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return nil, &UnavailableError{Reason: ReasonResources, Detail: fmt.Sprintf("mmap ring region %#x", off), Err: err}
	}
	return b, nil
}

// u32At returns a pointer to the 32-bit word at off in a mapping. The mapping
// is not Go memory, so the pointer is never seen or moved by the collector;
// it stays valid until the mapping is released by Close.
func u32At(mem []byte, off uint32) *uint32 {
	return (*uint32)(unsafe.Pointer(&mem[off]))
}

// init probes, checks what the backend needs, and sets up the scratch space,
// the buffer ring and the wakeup.
func (r *Ring) init() error {
	if missing := requiredFeatures &^ r.features; missing != 0 {
		return &UnavailableError{Reason: ReasonMissingFeature, Detail: fmt.Sprintf("feature bits %#x (needs Linux 5.11)", missing)}
	}
	if err := r.probeOpcodes(); err != nil {
		return err
	}
	r.slotSize = int(unsafe.Sizeof(msghdr{})) + r.cfg.MaxIovecs*int(unsafe.Sizeof(iovec{}))
	var err error
	r.scratch, err = unix.Mmap(-1, 0, 64+int(r.sqEntries)*r.slotSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return &UnavailableError{Reason: ReasonResources, Detail: "mmap scratch", Err: err}
	}
	r.wakeCount = (*uint64)(unsafe.Pointer(&r.scratch[0]))
	if err := r.bufs.setup(r.fd, r.cfg.BufferCount, r.cfg.BufferSize, r.cfg.WholeBuffers); err != nil {
		return err
	}
	if err := r.selfTest(); err != nil {
		return err
	}
	if r.cfg.DirectDescriptors > 0 {
		if err := r.registerDirect(r.cfg.DirectDescriptors); err != nil {
			return err
		}
	}
	return r.setupWake()
}

// Mode returns the rung of the setup ladder the ring runs on.
func (r *Ring) Mode() Mode { return r.mode }

// Stats returns the ring's counters. Owner only.
func (r *Ring) Stats() Stats { return r.stats }

// FD returns the ring's file descriptor (for tests and diagnostics).
func (r *Ring) FD() int { return r.fd }

// pending returns how many prepared entries the kernel has not consumed.
func (r *Ring) pending() uint32 {
	return r.sqTail - atomic.LoadUint32(r.sqHead)
}

// next returns the next free submission entry, zeroed, with its slot index,
// submitting what is queued first when the ring is full.
func (r *Ring) next() (*sqe, uint32, error) {
	if r.closed {
		return nil, 0, ErrClosed
	}
	if r.pending() == r.sqEntries {
		if err := r.enter(0, false, 0); err != nil {
			return nil, 0, err
		}
		if r.pending() == r.sqEntries {
			return nil, 0, fmt.Errorf("uring: submission ring full after submit: %w", unix.EBUSY)
		}
	}
	idx := r.sqTail & r.sqMask
	e := &r.sqes[idx]
	*e = sqe{}
	r.sqTail++
	return e, idx, nil
}

// Submit hands every prepared entry to the kernel and collects completions
// that are ready, without waiting. With ModeDeferTaskrun this is also what
// runs the kernel's completion work, so a loop calls it (or SubmitAndWait)
// once per tick. Owner only.
func (r *Ring) Submit() error {
	if r.closed {
		return ErrClosed
	}
	return r.enter(0, false, 0)
}

// SubmitBatch is Submit for a busy owner: it also asks the kernel to run up
// to batch items of deferred completion work in this one call without
// waiting (a wait of 0 for batch completions). With ModeDeferTaskrun a
// plain Submit runs only a small fixed number of them per call (20 in
// Linux 6.x), which under load lets the backlog of completion work grow
// and delays every completion behind it, an accept's included. Owner only.
func (r *Ring) SubmitBatch(batch uint32) error {
	if r.closed {
		return ErrClosed
	}
	if batch == 0 {
		return r.enter(0, false, 0)
	}
	return r.enter(batch, true, 0)
}

// SubmitAndWait hands every prepared entry to the kernel and waits until at
// least one completion is ready or timeout passes; a negative timeout waits
// without limit. A timeout or a signal is not an error: the caller reaps what
// there is. Owner only.
func (r *Ring) SubmitAndWait(timeout time.Duration) error {
	if r.closed {
		return ErrClosed
	}
	if r.ready() > 0 {
		return r.enter(0, false, 0)
	}
	return r.enter(1, true, timeout)
}

// ready returns how many completions wait in the ring.
func (r *Ring) ready() uint32 {
	return atomic.LoadUint32(r.cqTailPtr) - *r.cqHeadPtr
}

// enter is the one io_uring_enter call: submit what is pending, run the
// kernel's deferred work and, with minComplete 1, wait. The timeout travels
// in an io_uring_getevents_arg (IORING_ENTER_EXT_ARG, Linux 5.11).
func (r *Ring) enter(minComplete uint32, timed bool, timeout time.Duration) error {
	if r.wakeDisarmed && r.pending() == r.sqEntries {
		// Make room for the wakeup's read before anything waits.
		if err := r.sysEnter(0, false, 0); err != nil {
			return err
		}
	}
	r.rearmWake()
	if r.wakeDisarmed {
		// The kernel took nothing: waiting now could miss a Wake.
		minComplete, timed = 0, false
	}
	return r.sysEnter(minComplete, timed, timeout)
}

// sysEnter is the system call behind enter.
func (r *Ring) sysEnter(minComplete uint32, timed bool, timeout time.Duration) error {
	if r.bufs.shown != r.bufs.tail {
		r.bufs.publish()
	}
	r.bufs.grown = false
	atomic.StoreUint32(r.sqTailPtr, r.sqTail)
	toSubmit := r.pending()
	// The timespec sits in the same object as the argument that points to
	// it, so keeping the argument alive for the call keeps both.
	var w struct {
		arg getEventsArg
		ts  unix.Timespec
	}
	arg := &w.arg
	if timed && timeout >= 0 {
		w.ts = unix.NsecToTimespec(int64(timeout))
		arg.ts = uint64(uintptr(unsafe.Pointer(&w.ts)))
	}
	r.stats.Enters++
	// An enter that does not wait cannot block, so it skips the scheduler's
	// system-call bookkeeping, as the poller's zero-timeout epoll_pwait does;
	// one that waits must let the runtime hand the P to another thread.
	// Both are called directly, so that the pointer conversions in their
	// arguments keep arg and ts alive and in place for the call.
	var n uintptr
	var errno unix.Errno
	if minComplete == 0 {
		n, _, errno = unix.RawSyscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), uintptr(toSubmit), 0,
			enterGetEvents|enterExtArg, uintptr(unsafe.Pointer(arg)), unsafe.Sizeof(*arg))
	} else {
		n, _, errno = unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), uintptr(toSubmit), uintptr(minComplete),
			enterGetEvents|enterExtArg, uintptr(unsafe.Pointer(arg)), unsafe.Sizeof(*arg))
	}
	switch errno {
	case 0:
		r.stats.Submitted += uint64(n)
		return nil
	case unix.ETIME, unix.EINTR:
		return nil
	case unix.EAGAIN, unix.EBUSY:
		// The kernel is short of memory for requests, or completions
		// overflowed: the caller reaps, and the next enter submits the rest
		// (they stay between the kernel's head and our tail).
		return nil
	case unix.EEXIST:
		return fmt.Errorf("io_uring_enter: %w", ErrWrongThread)
	}
	return fmt.Errorf("io_uring_enter: %w", errno)
}

// Close releases the ring: the buffer ring is unregistered first, so that no
// receive still in the kernel can select a buffer whose memory is about to be
// unmapped; then the ring fd is closed, which cancels every request, and the
// memory is unmapped. Called from a thread other than the single issuer's,
// Close still closes every fd but leaves the buffer memory mapped and
// returns ErrWrongThread. The wakeup fd is closed once no Wake is using it. A
// close queued with CloseFD or CancelAndCloseFD that has not completed is
// cancelled with the rest and its fd stays open, so a caller that closes
// connections through the ring waits for their OpClose completions before
// Close. Owner only; Close is idempotent.
func (r *Ring) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	return r.release()
}

func (r *Ring) release() error {
	var errs []error
	if r.fd >= 0 {
		if err := r.bufs.unregister(r.fd); err == unix.EEXIST {
			// Not the owner's thread: the buffers stay mapped (see
			// bufRing.release), a bounded leak rather than memory the
			// kernel could write into after it is reused.
			errs = append(errs, fmt.Errorf("unregister buffer ring: %w", ErrWrongThread))
		} else if err != nil {
			errs = append(errs, fmt.Errorf("unregister buffer ring: %w", err))
		}
		if err := unix.Close(r.fd); err != nil {
			errs = append(errs, fmt.Errorf("close ring: %w", err))
		}
		r.fd = -1
	}
	r.bufs.release()
	if r.efd >= 0 {
		r.wake.close()
		unix.Close(r.efd)
		r.efd = -1
	}
	for _, m := range [][]byte{r.sqeMem, r.scratch} {
		if m != nil {
			unix.Munmap(m)
		}
	}
	if r.cqMem != nil && len(r.cqMem) > 0 && &r.cqMem[0] != &r.sqMem[0] {
		unix.Munmap(r.cqMem)
	}
	if r.sqMem != nil {
		unix.Munmap(r.sqMem)
	}
	r.sqMem, r.cqMem, r.sqeMem, r.scratch = nil, nil, nil, nil
	return errors.Join(errs...)
}
