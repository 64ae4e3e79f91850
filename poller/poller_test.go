//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package poller_test

import (
	"errors"
	"math"
	"os"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pinion-net/pinion/poller"
)

// endpoints is a connected pair of fds: r is watched for reading and w is the
// peer that writes to it. For a pipe, w is only writable and r only readable;
// for a socketpair both are full-duplex.
type endpoints struct {
	r, w int
}

// closeW closes the writing peer early; the cleanup then skips it.
func (e *endpoints) closeW(t *testing.T) {
	t.Helper()
	if err := unix.Close(e.w); err != nil {
		t.Fatalf("close w: %v", err)
	}
	e.w = -1
}

// pair builds endpoints from two fds: non-blocking, closed at cleanup. The
// tests avoid pipe2 and SOCK_NONBLOCK, which darwin lacks.
func pair(t *testing.T, fds [2]int) *endpoints {
	t.Helper()
	e := &endpoints{r: fds[0], w: fds[1]}
	t.Cleanup(func() {
		unix.Close(e.r)
		if e.w >= 0 {
			unix.Close(e.w)
		}
	})
	for _, fd := range fds {
		if err := unix.SetNonblock(fd, true); err != nil {
			t.Fatalf("set non-blocking: %v", err)
		}
	}
	return e
}

func newPipe(t *testing.T) *endpoints {
	t.Helper()
	var fds [2]int
	if err := unix.Pipe(fds[:]); err != nil {
		t.Fatalf("pipe: %v", err)
	}
	return pair(t, fds)
}

func newSocketpair(t *testing.T) *endpoints {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatalf("socketpair: %v", err)
	}
	return pair(t, fds)
}

func mustOpen(t testing.TB) *poller.Poller {
	t.Helper()
	p, err := poller.Open()
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func mustWrite(t *testing.T, fd int, s string) {
	t.Helper()
	if n, err := unix.Write(fd, []byte(s)); n != len(s) || err != nil {
		t.Fatalf("write fd %d: got %d, %v; want %d, nil", fd, n, err, len(s))
	}
}

// poll calls Wait once and merges the events by token, since kqueue reports
// the read and write sides of one fd as separate events.
func poll(t *testing.T, p *poller.Poller, timeout time.Duration) map[poller.Token]poller.Flags {
	t.Helper()
	events := make([]poller.Event, 16)
	n, err := p.Wait(events, timeout)
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	got := make(map[poller.Token]poller.Flags)
	for _, ev := range events[:n] {
		got[ev.Token] |= ev.Flags
	}
	return got
}

// expect asserts that one Wait reports exactly tok, with at least the flags
// in want. The readiness is already there, so the timeout is only a bound.
func expect(t *testing.T, p *poller.Poller, tok poller.Token, want poller.Flags) {
	t.Helper()
	got := poll(t, p, 5*time.Second)
	if len(got) != 1 || got[tok]&want != want {
		t.Fatalf("Wait: got %v; want {%#x: flags including %04b}", got, uint64(tok), want)
	}
}

// expectNone asserts that a non-blocking Wait reports nothing.
func expectNone(t *testing.T, p *poller.Poller) {
	t.Helper()
	if got := poll(t, p, 0); len(got) != 0 {
		t.Fatalf("Wait(0): got %v; want no events", got)
	}
}

func mustAdd(t *testing.T, p *poller.Poller, fd int, tok poller.Token, in poller.Interest) {
	t.Helper()
	if err := p.Add(fd, tok, in); err != nil {
		t.Fatalf("Add: %v", err)
	}
}

func mustModify(t *testing.T, p *poller.Poller, fd int, tok poller.Token, in poller.Interest) {
	t.Helper()
	if err := p.Modify(fd, tok, in); err != nil {
		t.Fatalf("Modify: %v", err)
	}
}

// contract is the behaviour every backend must show on every kind of fd.
var contract = []struct {
	name string
	run  func(t *testing.T, p *poller.Poller, e *endpoints)
}{
	{"ReadableAfterPeerWrites", func(t *testing.T, p *poller.Poller, e *endpoints) {
		tok := poller.NewToken(e.r, 1)
		mustAdd(t, p, e.r, tok, poller.Read)
		mustWrite(t, e.w, "x")
		expect(t, p, tok, poller.Readable)
	}},
	{"NotReadableWhenEmpty", func(t *testing.T, p *poller.Poller, e *endpoints) {
		mustAdd(t, p, e.r, poller.NewToken(e.r, 1), poller.Read)
		expectNone(t, p)
	}},
	{"WritableWithWriteInterest", func(t *testing.T, p *poller.Poller, e *endpoints) {
		tok := poller.NewToken(e.w, 1)
		mustAdd(t, p, e.w, tok, poller.Write)
		expect(t, p, tok, poller.Writable)
	}},
	{"ModifyReadToWriteToNone", func(t *testing.T, p *poller.Poller, e *endpoints) {
		mustAdd(t, p, e.w, poller.NewToken(e.w, 1), poller.Read)
		expectNone(t, p)
		tok := poller.NewToken(e.w, 2)
		mustModify(t, p, e.w, tok, poller.Write)
		expect(t, p, tok, poller.Writable)
		mustModify(t, p, e.w, poller.NewToken(e.w, 3), 0)
		expectNone(t, p)
	}},
	{"ModifyPendingReadToNoneAndBack", func(t *testing.T, p *poller.Poller, e *endpoints) {
		mustAdd(t, p, e.r, poller.NewToken(e.r, 1), poller.Read)
		mustWrite(t, e.w, "x")
		mustModify(t, p, e.r, poller.NewToken(e.r, 2), 0)
		expectNone(t, p)
		tok := poller.NewToken(e.r, 3)
		mustModify(t, p, e.r, tok, poller.Read)
		expect(t, p, tok, poller.Readable)
	}},
	{"DeleteStopsEvents", func(t *testing.T, p *poller.Poller, e *endpoints) {
		mustAdd(t, p, e.r, poller.NewToken(e.r, 1), poller.Read|poller.Write)
		mustWrite(t, e.w, "x")
		if err := p.Delete(e.r); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		expectNone(t, p)
		if err := p.Delete(e.r); !errors.Is(err, unix.ENOENT) {
			t.Fatalf("second Delete: got %v; want an error wrapping ENOENT", err)
		}
	}},
	{"HangUpAfterPeerCloses", func(t *testing.T, p *poller.Poller, e *endpoints) {
		tok := poller.NewToken(e.r, 1)
		mustAdd(t, p, e.r, tok, poller.Read)
		e.closeW(t)
		expect(t, p, tok, poller.Readable|poller.HangUp)
	}},
	{"TokenRoundTrips", func(t *testing.T, p *poller.Poller, e *endpoints) {
		tok := poller.NewToken(e.r, 0xFFFFFFFE)
		mustAdd(t, p, e.r, tok, poller.Read)
		mustWrite(t, e.w, "x")
		expect(t, p, tok, poller.Readable)
		if tok.FD() != e.r || tok.Gen() != 0xFFFFFFFE {
			t.Fatalf("token %#x: got fd %d gen %#x; want fd %d gen 0xfffffffe", uint64(tok), tok.FD(), tok.Gen(), e.r)
		}
	}},
	{"LevelTriggered", func(t *testing.T, p *poller.Poller, e *endpoints) {
		tok := poller.NewToken(e.r, 1)
		mustAdd(t, p, e.r, tok, poller.Read)
		mustWrite(t, e.w, "x")
		expect(t, p, tok, poller.Readable)
		expect(t, p, tok, poller.Readable)
		var buf [1]byte
		if n, err := unix.Read(e.r, buf[:]); n != 1 || err != nil {
			t.Fatalf("read: got %d, %v; want 1, nil", n, err)
		}
		expectNone(t, p)
	}},
}

func TestContract(t *testing.T) {
	kinds := []struct {
		name string
		open func(t *testing.T) *endpoints
	}{
		{"pipe", newPipe},
		{"socketpair", newSocketpair},
	}
	for _, k := range kinds {
		for _, c := range contract {
			t.Run(k.name+"/"+c.name, func(t *testing.T) {
				c.run(t, mustOpen(t), k.open(t))
			})
		}
	}
}

func TestToken(t *testing.T) {
	tests := []struct {
		fd  int
		gen uint32
	}{
		{0, 0},
		{3, 1},
		{math.MaxInt32, math.MaxUint32},
		{1 << 20, 0x80000000},
	}
	for _, tt := range tests {
		tok := poller.NewToken(tt.fd, tt.gen)
		if tok.FD() != tt.fd || tok.Gen() != tt.gen {
			t.Errorf("NewToken(%d, %#x): got fd %d gen %#x", tt.fd, tt.gen, tok.FD(), tok.Gen())
		}
		if want := uint64(tt.gen)<<32 | uint64(tt.fd); uint64(tok) != want {
			t.Errorf("NewToken(%d, %#x) = %#x; want %#x", tt.fd, tt.gen, uint64(tok), want)
		}
	}
}

func TestAddRejectsMismatchedToken(t *testing.T) {
	p := mustOpen(t)
	e := newPipe(t)
	if err := p.Add(e.r, poller.NewToken(e.w, 1), poller.Read); err == nil {
		t.Fatal("Add with another fd's token: got nil; want an error")
	}
}

func TestWaitTimeoutIsALowerBound(t *testing.T) {
	p := mustOpen(t)
	events := make([]poller.Event, 4)
	const timeout = 10 * time.Millisecond
	start := time.Now()
	n, err := p.Wait(events, timeout)
	if elapsed := time.Since(start); n != 0 || err != nil || elapsed < timeout {
		t.Fatalf("Wait(%v) on an idle poller: got %d, %v after %v; want 0, nil after at least %v", timeout, n, err, elapsed, timeout)
	}
}

func TestWaitNonBlockingDoesNotAllocate(t *testing.T) {
	p := mustOpen(t)
	events := make([]poller.Event, 64)
	var n int
	var err error
	allocs := testing.AllocsPerRun(100, func() {
		n, err = p.Wait(events, 0)
	})
	if n != 0 || err != nil {
		t.Fatalf("Wait(0) on an idle poller: got %d, %v; want 0, nil", n, err)
	}
	if allocs != 0 {
		t.Fatalf("Wait(0): got %v allocations per call; want 0", allocs)
	}
}

func TestClosedPoller(t *testing.T) {
	p, err := poller.Open()
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	e := newPipe(t)
	_, waitErr := p.Wait(make([]poller.Event, 1), 0)
	errs := map[string]error{
		"Add":    p.Add(e.r, poller.NewToken(e.r, 1), poller.Read),
		"Modify": p.Modify(e.r, poller.NewToken(e.r, 1), poller.Read),
		"Delete": p.Delete(e.r),
		"Wait":   waitErr,
		"Wake":   p.Wake(),
		"Close":  p.Close(),
	}
	for name, err := range errs {
		if !errors.Is(err, poller.ErrClosed) {
			t.Errorf("%s after Close: got %v; want ErrClosed", name, err)
		}
	}
}

// countFDs counts the process's open fds through /proc/self/fd.
func countFDs(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("read /proc/self/fd: %v", err)
	}
	return len(entries)
}

func TestCloseReleasesFDs(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("counts fds through /proc/self/fd, which is Linux only")
	}
	countFDs(t) // the first directory read may start the runtime's own poller
	before := countFDs(t)
	p, err := poller.Open()
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if open := countFDs(t); open <= before {
		t.Fatalf("fds while open: got %d; want more than %d", open, before)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if after := countFDs(t); after != before {
		t.Fatalf("fds after Close: got %d; want %d", after, before)
	}
}

func BenchmarkWaitNonBlocking(b *testing.B) {
	p := mustOpen(b)
	events := make([]poller.Event, 64)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Wait(events, 0); err != nil {
			b.Fatal(err)
		}
	}
}
