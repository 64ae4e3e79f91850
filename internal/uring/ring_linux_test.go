//go:build linux && (amd64 || arm64)

package uring

import (
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func TestABISizes(t *testing.T) {
	for _, tc := range []struct {
		name      string
		got, want uintptr
	}{
		{"io_uring_params", unsafe.Sizeof(params{}), 120},
		{"io_uring_sqe", unsafe.Sizeof(sqe{}), 64},
		{"io_uring_cqe", unsafe.Sizeof(cqe{}), 16},
		{"io_uring_getevents_arg", unsafe.Sizeof(getEventsArg{}), 24},
		{"io_uring_probe", unsafe.Sizeof(probeArg{}), 16 + 8*probeMaxOps},
		{"io_uring_buf", unsafe.Sizeof(bufEntry{}), 16},
		{"io_uring_buf_reg", unsafe.Sizeof(bufReg{}), 40},
		{"msghdr", unsafe.Sizeof(msghdr{}), 56},
		{"iovec", unsafe.Sizeof(iovec{}), 16},
		{"sqe.userData offset", unsafe.Offsetof(sqe{}.userData), 32},
		{"sqe.bufGroup offset", unsafe.Offsetof(sqe{}.bufGroup), 40},
		{"sqe.addr3 offset", unsafe.Offsetof(sqe{}.addr3), 48},
		{"io_uring_buf.resv (tail) offset", unsafe.Offsetof(bufEntry{}.resv), 14},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %d, want %d", tc.name, tc.got, tc.want)
		}
	}
}

func TestTokenRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		fd  int
		gen uint32
		op  Op
	}{{0, 0, OpNop}, {3, 1, OpRecv}, {1<<31 - 1, genMask, OpSend}, {-1, 5, OpAccept}, {17, 1 << 24, opWake}} {
		tok := NewToken(tc.fd, tc.gen).with(tc.op)
		if tok.FD() != tc.fd || tok.Gen() != tc.gen&genMask || tok.Op() != tc.op {
			t.Errorf("token(%d, %d, %v) = fd %d gen %d op %v", tc.fd, tc.gen, tc.op, tok.FD(), tok.Gen(), tok.Op())
		}
		if tok.Key() != NewToken(tc.fd, tc.gen) {
			t.Errorf("Key of %#x = %#x, want %#x", tok, tok.Key(), NewToken(tc.fd, tc.gen))
		}
	}
}

func TestNewProbe(t *testing.T) {
	r := newRing(t, Config{})
	p := r.Probe()
	t.Logf("probe: %v", p)
	if p.Mode != ModeDeferTaskrun {
		// Every kernel since 6.1 takes the top rung; a lower one here means
		// the ladder walked down for a wrong reason.
		t.Errorf("mode %v, want %v on this kernel", p.Mode, ModeDeferTaskrun)
	}
	if p.Features&requiredFeatures != requiredFeatures {
		t.Errorf("features %#x lack required %#x", p.Features, requiredFeatures)
	}
	for _, op := range requiredOpcodes {
		if !p.Supports(op) {
			t.Errorf("probe says opcode %d is unsupported", op)
		}
	}
	if p.Supports(255) {
		t.Errorf("probe says opcode 255 is supported")
	}
	if want := kernelAtLeast(t, 6, 12); p.Incremental != want {
		t.Errorf("incremental buffers %v, want %v on this kernel", p.Incremental, want)
	}
	if whole := newRing(t, Config{WholeBuffers: true}); whole.Incremental() {
		t.Errorf("a ring with Config.WholeBuffers consumes buffers incrementally")
	}
}

// kernelAtLeast reports whether the running kernel is major.minor or later.
func kernelAtLeast(t *testing.T, major, minor int) bool {
	t.Helper()
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		t.Fatal(err)
	}
	var ma, mi int
	if _, err := fmt.Sscanf(unix.ByteSliceToString(u.Release[:]), "%d.%d", &ma, &mi); err != nil {
		t.Fatalf("kernel release %q: %v", u.Release[:], err)
	}
	return ma > major || ma == major && mi >= minor
}

// TestLadder sets a ring up on every rung and runs a round trip on each, so
// that the fallbacks are known to work before a kernel needs them.
func TestLadder(t *testing.T) {
	for _, m := range []Mode{ModeDeferTaskrun, ModeSingleIssuer, ModeCoopTaskrun, ModePlain} {
		t.Run(m.String(), func(t *testing.T) {
			r := newRing(t, Config{Mode: m, Entries: 8})
			if r.Mode() != m {
				t.Fatalf("mode %v, want %v", r.Mode(), m)
			}
			if err := r.Nop(NewToken(7, 3)); err != nil {
				t.Fatal(err)
			}
			reapUntil(t, r, func(c CQE) bool {
				if c.Token != NewToken(7, 3).with(OpNop) || c.Res != 0 {
					t.Fatalf("got %+v, want nop token with Res 0", c)
				}
				return true
			})
		})
	}
}

func TestNopRoundTrip(t *testing.T) {
	// Entries 4 with 10 nops makes the preparation submit a full ring.
	r := newRing(t, Config{Entries: 4})
	const n = 10
	for i := range n {
		if err := r.Nop(NewToken(i, uint32(i))); err != nil {
			t.Fatal(err)
		}
	}
	seen := make(map[Token]bool)
	reapUntil(t, r, func(c CQE) bool {
		if c.Token.Op() != OpNop || c.Token.Gen() != uint32(c.Token.FD()) || c.Res != 0 {
			t.Fatalf("unexpected completion %+v", c)
		}
		if seen[c.Token] {
			t.Fatalf("token %#x completed twice", c.Token)
		}
		seen[c.Token] = true
		return len(seen) == n
	})
	if s := r.Stats(); s.Submitted < n+1 || s.Completions != n {
		t.Errorf("stats %+v, want ≥ %d submitted (nops and the wakeup read), %d completions", s, n+1, n)
	}
}

func TestWaitTimeout(t *testing.T) {
	r := newRing(t, Config{})
	start := time.Now()
	if err := r.SubmitAndWait(20 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 20*time.Millisecond {
		t.Errorf("returned after %v, before its 20ms timeout, with nothing to complete", el)
	}
	var cqes [4]CQE
	if n := r.Reap(cqes[:]); n != 0 {
		t.Errorf("reaped %d completions from an idle ring: %+v", n, cqes[:n])
	}
}

func TestForcedUnavailable(t *testing.T) {
	before := openFDs(t)
	r, err := New(Config{ForceUnavailable: true})
	if r != nil || err == nil {
		t.Fatalf("New with ForceUnavailable = %v, %v; want nil and an error", r, err)
	}
	var ue *UnavailableError
	if !errors.Is(err, ErrUnavailable) || !errors.As(err, &ue) || ue.Reason != ReasonForced {
		t.Fatalf("error %v (%T): want an *UnavailableError with ReasonForced matching ErrUnavailable", err, err)
	}
	if after := openFDs(t); after != before {
		t.Errorf("open fds %d → %d", before, after)
	}
}

func TestSetupErrorReasons(t *testing.T) {
	perm := ReasonPermission
	switch disabledSysctl() {
	case "1", "2":
		perm = ReasonDisabled
	}
	for _, tc := range []struct {
		errno unix.Errno
		want  Reason
	}{
		{unix.EPERM, perm},
		{unix.ENOSYS, ReasonNoSyscall},
		{unix.ENOMEM, ReasonResources},
		{unix.EMFILE, ReasonResources},
		{unix.EFAULT, ReasonOther},
	} {
		err := setupError(tc.errno)
		var ue *UnavailableError
		if !errors.As(err, &ue) || ue.Reason != tc.want || !errors.Is(err, tc.errno) || !errors.Is(err, ErrUnavailable) {
			t.Errorf("setupError(%v) = %v, want reason %v matching the errno and ErrUnavailable", tc.errno, err, tc.want)
		}
	}
}

func TestBadConfig(t *testing.T) {
	for _, cfg := range []Config{{BufferCount: 3}, {BufferCount: 1 << 16}, {MaxIovecs: 2000}} {
		if _, err := New(cfg); err == nil || errors.Is(err, ErrUnavailable) {
			t.Errorf("New(%+v) = %v, want a configuration error", cfg, err)
		}
	}
}

// TestWrongThread shows the error an unlocked owner gets: the kernel refuses
// submissions from any thread but the single issuer.
func TestWrongThread(t *testing.T) {
	r := newRing(t, Config{})
	if r.Mode() != ModeDeferTaskrun && r.Mode() != ModeSingleIssuer {
		t.Skip("not a single-issuer ring")
	}
	errc := make(chan error)
	go func() {
		runtime.LockOSThread() // a thread that is not the test's
		defer runtime.UnlockOSThread()
		errc <- r.Submit()
	}()
	if err := <-errc; !errors.Is(err, ErrWrongThread) {
		t.Fatalf("Submit from another thread: %v, want ErrWrongThread", err)
	}
}

func TestNoFDLeak(t *testing.T) {
	runtime.LockOSThread()
	before := openFDs(t)
	for range 20 {
		r, err := New(Config{})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Nop(NewToken(0, 0)); err != nil {
			t.Fatal(err)
		}
		if err := r.Submit(); err != nil {
			t.Fatal(err)
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		if err := r.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
	}
	if after := openFDs(t); after != before {
		t.Errorf("open fds %d → %d after 20 rings", before, after)
	}
}

func TestClosedRing(t *testing.T) {
	runtime.LockOSThread()
	r, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	if err := r.Nop(0); !errors.Is(err, ErrClosed) {
		t.Errorf("Nop after Close: %v, want ErrClosed", err)
	}
	if err := r.SubmitAndWait(0); !errors.Is(err, ErrClosed) {
		t.Errorf("SubmitAndWait after Close: %v, want ErrClosed", err)
	}
	if err := r.Wake(); !errors.Is(err, ErrClosed) {
		t.Errorf("Wake after Close: %v, want ErrClosed", err)
	}
}

func TestSubmitAllocs(t *testing.T) {
	r := newRing(t, Config{})
	var cqes [8]CQE
	bufs := [][]byte{make([]byte, 8), make([]byte, 8)}
	allocs := testing.AllocsPerRun(100, func() {
		r.Nop(NewToken(1, 1))
		r.Sendmsg(-1, bufs, NewToken(-1, 1)) // fails with EBADF, allocation-free all the same
		r.Submit()
		r.Reap(cqes[:])
		r.SubmitAndWait(0) // a timed wait that expires at once
		r.Reap(cqes[:])
	})
	if allocs != 0 {
		t.Errorf("prepare, submit and reap: %v allocations per run, want 0", allocs)
	}
}

// TestCloseFromOtherThread: the kernel refuses to unregister the buffer ring
// from a thread that is not the single issuer; Close still closes every fd,
// keeps the buffers mapped, and says why.
func TestCloseFromOtherThread(t *testing.T) {
	runtime.LockOSThread()
	before := openFDs(t)
	r, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		errc <- r.Close()
	}()
	if err := <-errc; !errors.Is(err, ErrWrongThread) {
		t.Errorf("Close from another thread: %v, want ErrWrongThread", err)
	}
	if after := openFDs(t); after != before {
		t.Errorf("open fds %d → %d", before, after)
	}
	if r.bufs.data == nil {
		t.Errorf("buffer memory unmapped while still registered with the kernel")
	}
}
