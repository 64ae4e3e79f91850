package engine_test

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pinion-net/pinion/engine"
)

// callbackTally counts the callbacks of a test: each issued operation takes
// an id, and its callback marks the id fired.
type callbackTally struct {
	next    atomic.Int64
	issued  []atomic.Bool
	fired   []atomic.Int32
	doubles atomic.Int64
}

func newCallbackTally(n int) *callbackTally {
	return &callbackTally{issued: make([]atomic.Bool, n), fired: make([]atomic.Int32, n)}
}

// id reserves a callback id.
func (cb *callbackTally) id() int { return int(cb.next.Add(1) - 1) }

// fire records that callback id ran.
func (cb *callbackTally) fire(id int) {
	if cb.fired[id].Add(1) != 1 {
		cb.doubles.Add(1)
	}
}

// check fails unless every issued callback fired exactly once and no
// other one fired.
func (cb *callbackTally) check(t *testing.T) {
	t.Helper()
	n := int(cb.next.Load())
	var issued, missing, extra int
	for id := range n {
		f := cb.fired[id].Load()
		switch {
		case cb.issued[id].Load():
			issued++
			if f != 1 {
				missing++
				if missing <= 5 {
					t.Errorf("callback %d fired %d times, want 1", id, f)
				}
			}
		case f != 0:
			extra++
			t.Errorf("callback %d of a refused call fired %d times, want 0", id, f)
		}
	}
	if d := cb.doubles.Load(); d != 0 {
		t.Errorf("callbacks fired more than once: got %d, want 0", d)
	}
	if missing > 0 || extra > 0 {
		t.Errorf("callbacks: %d issued, %d did not fire exactly once, %d fired for refused calls; want 0 and 0", issued, missing, extra)
	}
	t.Logf("%d callbacks issued of %d operations", issued, n)
}

// record is one ordered AsyncWrite: worker, sequence number within
// (worker, connection), connection index.
const recordSize = 12

func putRecord(worker, seq, conn int) []byte {
	b := make([]byte, recordSize)
	binary.BigEndian.PutUint32(b[0:], uint32(worker))
	binary.BigEndian.PutUint32(b[4:], uint32(seq))
	binary.BigEndian.PutUint32(b[8:], uint32(conn))
	return b
}

// TestHammer has many goroutines AsyncWrite, Close, Abort, Wake and Post
// on the same connections while the clients read and close them too. Every
// callback of a call that returned nil fires exactly once (Shutdown fires
// those still pending), and on connections nobody closes the bytes of
// each successful AsyncWrite reach the client, in each goroutine's order.
func TestHammer(t *testing.T) {
	const (
		chaosConns   = 40
		orderedConns = 8
		stalledConns = 1
		workers      = 16
		opsPerWorker = 300
		stalledMax   = 512 // writes: 32 MiB
		stalledWrite = 64 << 10
	)
	total := chaosConns + orderedConns + stalledConns
	handles := make(chan engine.Handle, 1)
	var wakes atomic.Int64
	h := &echoHandler{
		onOpen: func(c *engine.Conn) { handles <- c.Handle() },
		onData: func(c *engine.Conn) bool { // a sink: input is dropped
			if c.Buffered() == 0 {
				wakes.Add(1)
			}
			c.Discard(-1)
			return true
		},
	}
	cfg := testConfig()
	cfg.Loops = 2
	cfg.WriteMax = 2 * stalledMax * stalledWrite
	e, err := engine.Start(h, cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = e.Shutdown(context.Background()) })

	// Connect one client at a time so that client i owns handle i.
	clients := make([]net.Conn, total)
	hs := make([]engine.Handle, total)
	for i := range total {
		clients[i] = dial(t, e.Addrs()[0])
		hs[i] = receive(t, handles, 5*time.Second, "OnOpen")
	}
	chaos := hs[:chaosConns]
	ordered := hs[chaosConns : chaosConns+orderedConns]
	stalled := hs[chaosConns+orderedConns:]

	// Readers: chaos clients drop what they read, ordered ones keep it;
	// both close on EOF or error. Stalled clients read nothing until
	// released.
	var readers sync.WaitGroup
	received := make([][]byte, orderedConns)
	release := make(chan struct{})
	for i, c := range clients {
		readers.Add(1)
		go func() {
			defer readers.Done()
			defer c.Close()
			_ = c.SetReadDeadline(time.Now().Add(60 * time.Second))
			switch {
			case i < chaosConns:
				_, _ = io.Copy(io.Discard, c)
			case i < chaosConns+orderedConns:
				received[i-chaosConns], _ = io.ReadAll(c)
			default:
				<-release
				_, _ = io.Copy(io.Discard, c)
			}
		}()
	}
	var releaseOnce sync.Once
	releaseAll := func() { releaseOnce.Do(func() { close(release) }) }
	defer releaseAll()

	cb := newCallbackTally(workers*opsPerWorker*2 + stalledConns*stalledMax)
	var orderedErrs, postMismatch atomic.Int64
	issuedOrdered := make([][]int, workers) // per worker: records per ordered conn
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	var wg sync.WaitGroup
	for w := range workers {
		issuedOrdered[w] = make([]int, orderedConns)
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			for range opsPerWorker {
				if rng.IntN(4) == 0 {
					k := rng.IntN(orderedConns)
					id := cb.id()
					rec := putRecord(w, issuedOrdered[w][k], k)
					err := ordered[k].AsyncWrite(rec, func(err error) {
						if err != nil {
							orderedErrs.Add(1)
						}
						cb.fire(id)
					})
					if err != nil {
						t.Errorf("AsyncWrite on an open connection: got %v, want nil", err)
						continue
					}
					cb.issued[id].Store(true)
					issuedOrdered[w][k]++
				}
				k := rng.IntN(chaosConns)
				hd := chaos[k]
				switch op := rng.IntN(16); {
				case op < 8:
					id := cb.id()
					p := make([]byte, rng.IntN(4)*rng.IntN(2048)) // a quarter are empty
					if hd.AsyncWrite(p, func(error) { cb.fire(id) }) == nil {
						cb.issued[id].Store(true)
					}
				case op < 10:
					id := cb.id()
					err := hd.Post(func(c *engine.Conn, err error) {
						if (c == nil) == (err == nil) {
							postMismatch.Add(1)
						}
						if c != nil && c.Handle() != hd {
							postMismatch.Add(1)
						}
						cb.fire(id)
					})
					if err == nil {
						cb.issued[id].Store(true)
					}
				case op < 12:
					_ = hd.Wake()
				case op == 12:
					_ = hd.Close()
				case op == 13:
					_ = hd.Abort()
				default:
					_ = clients[k].Close()
				}
			}
		}()
	}
	wg.Wait()

	// Write to the stalled connection until the kernel takes no more and
	// bytes stay queued in the loop, so that Shutdown finds a completion
	// pending.
	var stalledFailed atomic.Int64
	for _, hd := range stalled {
		for i := range stalledMax {
			id := cb.id()
			err := hd.AsyncWrite(make([]byte, stalledWrite), func(err error) {
				if err != nil {
					stalledFailed.Add(1)
				}
				cb.fire(id)
			})
			if err != nil {
				t.Fatalf("AsyncWrite on a stalled connection: got %v, want nil", err)
			}
			cb.issued[id].Store(true)
			// Tasks run in order, and the writes of a batch of tasks are
			// flushed at its end: the write has been tried when a task
			// posted from a later batch runs.
			queued := make(chan int, 1)
			look := func(c *engine.Conn, err error) {
				if err != nil {
					queued <- -1
					return
				}
				queued <- c.OutboundBuffered()
			}
			if err := hd.Post(func(c *engine.Conn, err error) {
				if err != nil || hd.Post(look) != nil {
					queued <- -1
				}
			}); err != nil {
				t.Fatalf("Post: %v", err)
			}
			n := receive(t, queued, 5*time.Second, "the posted function")
			if n < 0 {
				t.Fatalf("the stalled connection closed")
			}
			if n > 0 {
				t.Logf("stalled after %d writes of %d bytes, %d bytes queued", i+1, stalledWrite, n)
				break
			}
			if i == stalledMax-1 {
				t.Fatalf("the kernel took all %d bytes; want some left queued", stalledMax*stalledWrite)
			}
		}
	}

	// Ordered connections close gracefully: every byte is flushed first.
	for _, hd := range ordered {
		if err := hd.Close(); err != nil {
			t.Errorf("Close: got %v, want nil", err)
		}
	}
	// The stalled clients never read, so the graceful part cannot finish:
	// Shutdown must force the close and fire the pending completions.
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if err := e.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown with stalled clients: got %v, want %v", err, context.DeadlineExceeded)
	}
	if stalledFailed.Load() == 0 {
		t.Errorf("completions failed on stalled connections: got 0, want some (their bytes never left)")
	}
	releaseAll()
	allRead := make(chan struct{})
	go func() { readers.Wait(); close(allRead) }()
	receive(t, allRead, 10*time.Second, "the clients to see their connections closed")

	cb.check(t)
	if n := e.Stats().Panics; n != 0 {
		t.Errorf("Stats().Panics: got %d, want 0", n)
	}
	if n := orderedErrs.Load(); n != 0 {
		t.Errorf("AsyncWrite completions with an error on connections nobody closed: got %d, want 0", n)
	}
	if n := postMismatch.Load(); n != 0 {
		t.Errorf("Post callbacks with a wrong (Conn, error) pair: got %d, want 0", n)
	}

	// Every record of a successful AsyncWrite arrived, in each worker's order.
	for k, data := range received {
		if len(data)%recordSize != 0 {
			t.Errorf("ordered conn %d: got %d bytes, want a multiple of %d", k, len(data), recordSize)
			continue
		}
		next := make([]int, workers)
		for off := 0; off < len(data); off += recordSize {
			w := int(binary.BigEndian.Uint32(data[off:]))
			seq := int(binary.BigEndian.Uint32(data[off+4:]))
			conn := int(binary.BigEndian.Uint32(data[off+8:]))
			if w >= workers || conn != k || seq != next[w] {
				t.Fatalf("ordered conn %d, offset %d: got record (worker %d, seq %d, conn %d), want worker < %d, seq %d, conn %d",
					k, off, w, seq, conn, workers, next[min(w, workers-1)], k)
			}
			next[w]++
		}
		for w := range workers {
			if next[w] != issuedOrdered[w][k] {
				t.Errorf("ordered conn %d, worker %d: got %d records, want %d", k, w, next[w], issuedOrdered[w][k])
			}
		}
	}

	// A stopped engine refuses calls and calls nothing back.
	for _, hd := range hs[:3] {
		id := cb.id()
		if err := hd.AsyncWrite([]byte("late"), func(error) { cb.fire(id) }); !errors.Is(err, engine.ErrLoopClosed) {
			t.Errorf("AsyncWrite after Shutdown: got %v, want %v", err, engine.ErrLoopClosed)
		}
		if err := hd.Post(func(*engine.Conn, error) { cb.fire(id) }); !errors.Is(err, engine.ErrLoopClosed) {
			t.Errorf("Post after Shutdown: got %v, want %v", err, engine.ErrLoopClosed)
		}
	}
	cb.check(t)
	t.Logf("wakes delivered: %d", wakes.Load())
}

// TestHandleContract checks each Handle operation on one connection: while
// open, after it closed, and after the engine stopped.
func TestHandleContract(t *testing.T) {
	handles := make(chan engine.Handle, 1)
	closed := make(chan struct{})
	wakes := make(chan int, 4)
	h := &echoHandler{
		onOpen: func(c *engine.Conn) { handles <- c.Handle() },
		onData: func(c *engine.Conn) bool {
			if c.Buffered() == 0 {
				wakes <- c.Buffered()
				return true
			}
			return false
		},
		onClose: func(*engine.Conn, error) { close(closed) },
	}
	e, err := engine.Start(h, testConfig())
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = e.Shutdown(context.Background()) })
	c := dial(t, e.Addrs()[0])
	hd := receive(t, handles, 5*time.Second, "OnOpen")
	if !hd.Valid() || (engine.Handle{}).Valid() {
		t.Fatalf("Valid: got %v for a connection's handle and %v for the zero Handle, want true and false",
			hd.Valid(), (engine.Handle{}).Valid())
	}

	done := make(chan error, 1)
	write := func(p []byte) error {
		t.Helper()
		if err := hd.AsyncWrite(p, func(err error) { done <- err }); err != nil {
			t.Fatalf("AsyncWrite(%q): got %v, want nil", p, err)
		}
		return receive(t, done, 5*time.Second, "the AsyncWrite callback")
	}
	if err := write([]byte("abc")); err != nil {
		t.Errorf("AsyncWrite callback: got %v, want nil", err)
	}
	got := make([]byte, 3)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(c, got); err != nil || string(got) != "abc" {
		t.Errorf("client read: got %q, %v; want %q", got, err, "abc")
	}
	if err := write(nil); err != nil {
		t.Errorf("AsyncWrite of no bytes: callback got %v, want nil", err)
	}
	if err := hd.Wake(); err != nil {
		t.Fatalf("Wake: %v", err)
	}
	if n := receive(t, wakes, 5*time.Second, "OnData after Wake"); n != 0 {
		t.Errorf("Buffered in OnData after Wake: got %d, want 0", n)
	}
	posted := make(chan error, 1)
	if err := hd.Post(func(pc *engine.Conn, err error) {
		if err == nil && pc.Handle() != hd {
			err = errors.New("Post ran with another connection")
		}
		posted <- err
	}); err != nil {
		t.Fatalf("Post: %v", err)
	}
	if err := receive(t, posted, 5*time.Second, "the posted function"); err != nil {
		t.Errorf("Post on an open connection: got %v, want nil", err)
	}

	_ = c.Close()
	receive(t, closed, 5*time.Second, "OnClose")
	if err := write([]byte("gone")); !errors.Is(err, engine.ErrClosed) {
		t.Errorf("AsyncWrite to a closed connection: callback got %v, want %v", err, engine.ErrClosed)
	}
	if err := hd.Post(func(pc *engine.Conn, err error) {
		if pc != nil {
			err = errors.New("Post ran with a Conn after close")
		}
		posted <- err
	}); err != nil {
		t.Fatalf("Post: %v", err)
	}
	if err := receive(t, posted, 5*time.Second, "the posted function"); !errors.Is(err, engine.ErrClosed) {
		t.Errorf("Post on a closed connection: got %v, want %v", err, engine.ErrClosed)
	}
	for name, op := range map[string]func() error{"Close": hd.Close, "Abort": hd.Abort, "Wake": hd.Wake} {
		if err := op(); err != nil {
			t.Errorf("%s on a closed connection: got %v, want nil (it does nothing)", name, err)
		}
	}

	if err := e.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	fired := make(chan struct{}, 1)
	if err := hd.AsyncWrite([]byte("x"), func(error) { fired <- struct{}{} }); !errors.Is(err, engine.ErrLoopClosed) {
		t.Errorf("AsyncWrite after Shutdown: got %v, want %v", err, engine.ErrLoopClosed)
	}
	for name, op := range map[string]func() error{"Close": hd.Close, "Abort": hd.Abort, "Wake": hd.Wake} {
		if err := op(); !errors.Is(err, engine.ErrLoopClosed) {
			t.Errorf("%s after Shutdown: got %v, want %v", name, err, engine.ErrLoopClosed)
		}
	}
	select {
	case <-fired:
		t.Errorf("the callback of a refused AsyncWrite ran")
	default:
	}
}
