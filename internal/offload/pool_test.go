package offload

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// newPool starts a pool and closes it when the test ends, failing the test
// if Close reports an error then.
func newPool(t *testing.T, cfg Config) *Pool {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	t.Cleanup(func() {
		if err := p.Close(context.Background()); err != nil {
			t.Errorf("Close at cleanup: %v", err)
		}
	})
	return p
}

// blockWorkers submits one job per worker that waits on gate, and returns
// once every worker is running one (so the queue is empty and the next
// Queue submissions fill it exactly).
func blockWorkers(t *testing.T, p *Pool, gate <-chan struct{}) {
	t.Helper()
	started := make(chan struct{}, p.cfg.Workers)
	for i := range p.cfg.Workers {
		if err := p.TrySubmit(func() { started <- struct{}{}; <-gate }); err != nil {
			t.Fatalf("blocking job %d: got %v, want nil", i, err)
		}
	}
	for range p.cfg.Workers {
		<-started
	}
}

// workerGoroutines counts the pool workers among the goroutines of the
// caller's synctest bubble (or all goroutines outside a bubble): a worker
// of an earlier test may still be returning, outside this bubble.
func workerGoroutines() int {
	buf := make([]byte, 1<<16)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	stacks := strings.Split(string(buf), "\n\n")
	// The first stack is the caller's; its header names its bubble.
	header, _, _ := strings.Cut(stacks[0], "\n")
	bubble := ""
	if i := strings.Index(header, "synctest bubble "); i >= 0 {
		bubble = strings.TrimSuffix(header[i:], "]:")
	}
	n := 0
	for _, s := range stacks {
		h, _, _ := strings.Cut(s, "\n")
		if strings.Contains(s, "offload.(*Pool).worker(") && strings.Contains(h, bubble) {
			n++
		}
	}
	return n
}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, cfg := range []Config{
		{Workers: 0, Queue: 1},
		{Workers: 1, Queue: 0},
		{Workers: -1, Queue: 8},
	} {
		if p, err := New(cfg); err == nil {
			_ = p.Close(context.Background())
			t.Errorf("New(%+v): got nil error, want one", cfg)
		}
	}
}

// TestQueueBoundConcurrent has 64 goroutines hammering TrySubmit while every
// worker is blocked: exactly Queue submissions beyond the running ones are
// accepted, the queue's high-water mark never passes Queue, and every
// refusal is counted.
func TestQueueBoundConcurrent(t *testing.T) {
	const (
		workers    = 4
		queue      = 32
		submitters = 64
		attempts   = 500
	)
	p := newPool(t, Config{Workers: workers, Queue: queue})
	gate := make(chan struct{})
	blockWorkers(t, p, gate)

	var accepted, full, ran atomic.Int64
	var maxDepth atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range submitters {
		wg.Go(func() {
			<-start
			for range attempts {
				err := p.TrySubmit(func() { ran.Add(1) })
				switch {
				case err == nil:
					accepted.Add(1)
				case errors.Is(err, ErrFull):
					full.Add(1)
				default:
					t.Errorf("TrySubmit: got %v, want nil or ErrFull", err)
					return
				}
				if d := int64(p.Stats().Depth); d > maxDepth.Load() {
					maxDepth.Store(d) // racy max: good enough as a second witness
				}
			}
		})
	}
	close(start)
	wg.Wait()

	s := p.Stats()
	if got := accepted.Load(); got != queue {
		t.Errorf("accepted while workers blocked: got %d, want %d (the queue bound)", got, queue)
	}
	if s.HighWater > queue {
		t.Errorf("HighWater: got %d, want <= %d", s.HighWater, queue)
	}
	if got := maxDepth.Load(); got > queue {
		t.Errorf("largest Depth seen: got %d, want <= %d", got, queue)
	}
	if want := uint64(submitters*attempts) - uint64(accepted.Load()); s.Rejected != want || uint64(full.Load()) != want {
		t.Errorf("Rejected: got %d (ErrFull returned %d times), want %d", s.Rejected, full.Load(), want)
	}
	close(gate)
	if err := p.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got := ran.Load(); got != queue {
		t.Errorf("queued jobs run by Close: got %d, want %d", got, queue)
	}
	t.Logf("%d attempts: %d accepted, %d ErrFull, high water %d", submitters*attempts, accepted.Load(), full.Load(), s.HighWater)
}

// TestFullIsImmediate measures TrySubmit against a full queue whose workers
// are all blocked: it must answer ErrFull at once, never wait for a slot.
func TestFullIsImmediate(t *testing.T) {
	p := newPool(t, Config{Workers: 2, Queue: 4})
	gate := make(chan struct{})
	defer close(gate)
	blockWorkers(t, p, gate)
	for i := range 4 {
		if err := p.TrySubmit(func() {}); err != nil {
			t.Fatalf("filling job %d: got %v, want nil", i, err)
		}
	}
	const n = 1000
	d := make([]time.Duration, n)
	measured := make(chan error, 1)
	go func() {
		for i := range n {
			start := time.Now()
			err := p.TrySubmit(func() {})
			d[i] = time.Since(start)
			if !errors.Is(err, ErrFull) {
				measured <- fmt.Errorf("TrySubmit %d on a full queue: got %v, want ErrFull", i, err)
				return
			}
		}
		measured <- nil
	}()
	select {
	case err := <-measured:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("TrySubmit on a full queue blocked: 1,000 calls not done after 10s")
	}
	slices.Sort(d)
	p50, p99, worst := d[n/2], d[n*99/100], d[n-1]
	t.Logf("TrySubmit on a full queue, %d calls: p50 %v, p99 %v, max %v", n, p50, p99, worst)
	// Generous for -race on a shared 2-core machine, where one call may
	// lose its CPU for tens of milliseconds (hence no bound on the max).
	if p99 > 200*time.Microsecond {
		t.Errorf("TrySubmit p99 on a full queue: got %v, want < 200µs", p99)
	}
}

// TestOnRoom checks that OnRoom is called exactly once after a full
// episode, once a worker frees a slot, and never without one.
func TestOnRoom(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rooms atomic.Int64
		p := newPool(t, Config{Workers: 1, Queue: 2, OnRoom: func() { rooms.Add(1) }})
		gate := make(chan struct{})
		blockWorkers(t, p, gate)
		step := make(chan struct{})
		for i := range 2 {
			if err := p.TrySubmit(func() { <-step }); err != nil {
				t.Fatalf("queued job %d: got %v, want nil", i, err)
			}
		}
		synctest.Wait()
		if got := rooms.Load(); got != 0 {
			t.Fatalf("OnRoom calls before any ErrFull: got %d, want 0", got)
		}
		for range 3 {
			if err := p.TrySubmit(func() {}); !errors.Is(err, ErrFull) {
				t.Fatalf("TrySubmit on a full queue: got %v, want ErrFull", err)
			}
		}
		synctest.Wait()
		if got := rooms.Load(); got != 0 {
			t.Fatalf("OnRoom calls while the queue is still full: got %d, want 0", got)
		}
		close(gate) // the worker takes the next job: a slot frees
		synctest.Wait()
		if got := rooms.Load(); got != 1 {
			t.Fatalf("OnRoom calls after a slot freed: got %d, want 1 (three ErrFull, one episode)", got)
		}
		if err := p.TrySubmit(func() {}); err != nil {
			t.Fatalf("TrySubmit after OnRoom: got %v, want nil", err)
		}
		close(step)
		synctest.Wait()
		if got := rooms.Load(); got != 1 {
			t.Fatalf("OnRoom calls after the queue drained without another ErrFull: got %d, want 1", got)
		}
	})
}

// TestOnRoomNeverLost races a submitter against a single worker over a
// one-slot queue: every time the submitter gets ErrFull it waits for OnRoom,
// which must come even when the worker took the last queued job in the
// instant between the failed send and ErrFull being returned.
func TestOnRoomNeverLost(t *testing.T) {
	room := make(chan struct{}, 1)
	p := newPool(t, Config{Workers: 1, Queue: 1, OnRoom: func() {
		select {
		case room <- struct{}{}:
		default:
		}
	}})
	const episodes = 20000
	deadline := time.Now().Add(20 * time.Second)
	job := func() {}
	for i := 0; i < episodes && time.Now().Before(deadline); {
		err := p.TrySubmit(job)
		if err == nil {
			continue
		}
		if !errors.Is(err, ErrFull) {
			t.Fatalf("TrySubmit: got %v, want nil or ErrFull", err)
		}
		select {
		case <-room:
		case <-time.After(2 * time.Second):
			t.Fatalf("episode %d: ErrFull, then no OnRoom within 2s (depth %d, busy %d)", i, p.Stats().Depth, p.Stats().Busy)
		}
		i++
	}
}

// TestPanicRecovered runs a job that panics: the panic is counted and
// logged with its stack, and the same single worker runs the next job.
func TestPanicRecovered(t *testing.T) {
	var logBuf syncBuffer
	p := newPool(t, Config{Workers: 1, Queue: 4, Logger: slog.New(slog.NewTextHandler(&logBuf, nil))})
	if err := p.TrySubmit(func() { panic("boom") }); err != nil {
		t.Fatalf("TrySubmit: %v", err)
	}
	done := make(chan struct{})
	if err := p.TrySubmit(func() { close(done) }); err != nil {
		t.Fatalf("TrySubmit: %v", err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the job after a panicking one did not run within 10s")
	}
	if err := p.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s := p.Stats()
	if s.Panics != 1 || s.Completed != 2 {
		t.Errorf("Panics, Completed: got %d, %d, want 1, 2", s.Panics, s.Completed)
	}
	log := logBuf.String()
	for _, want := range []string{"offload job panicked", "boom", "TestPanicRecovered"} {
		if !strings.Contains(log, want) {
			t.Errorf("log: got %q, want it to contain %q", log, want)
		}
	}
}

// TestCloseDrains checks that Close waits for the running and queued jobs,
// runs every queued one, and returns with no worker left.
func TestCloseDrains(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, err := New(Config{Workers: 3, Queue: 16})
		if err != nil {
			t.Fatal(err)
		}
		gate := make(chan struct{})
		blockWorkers(t, p, gate)
		if got := workerGoroutines(); got != 3 {
			t.Fatalf("worker goroutines while running: got %d, want 3", got)
		}
		var ran atomic.Int64
		for i := range 16 {
			if err := p.TrySubmit(func() { time.Sleep(time.Millisecond); ran.Add(1) }); err != nil {
				t.Fatalf("queued job %d: got %v, want nil", i, err)
			}
		}
		closed := make(chan error, 1)
		go func() { closed <- p.Close(context.Background()) }()
		synctest.Wait()
		select {
		case err := <-closed:
			t.Fatalf("Close returned %v while jobs were running; want it to wait", err)
		default:
		}
		close(gate)
		if err := <-closed; err != nil {
			t.Fatalf("Close: got %v, want nil", err)
		}
		if got := ran.Load(); got != 16 {
			t.Errorf("queued jobs run before Close returned: got %d, want 16", got)
		}
		synctest.Wait() // a worker may still be returning from its wg.Done
		if got := workerGoroutines(); got != 0 {
			t.Errorf("worker goroutines after Close: got %d, want 0", got)
		}
		if err := p.TrySubmit(func() {}); !errors.Is(err, ErrClosed) {
			t.Errorf("TrySubmit after Close: got %v, want ErrClosed", err)
		}
		if err := p.Close(context.Background()); err != nil {
			t.Errorf("second Close: got %v, want nil", err)
		}
	})
}

// TestCloseContext checks that Close gives up when its context ends first,
// returning ctx.Err(), and that the workers still exit once their jobs
// return.
func TestCloseContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, err := New(Config{Workers: 2, Queue: 4})
		if err != nil {
			t.Fatal(err)
		}
		gate := make(chan struct{})
		blockWorkers(t, p, gate)

		cancelled, cancel := context.WithCancel(context.Background())
		cancel()
		if err := p.Close(cancelled); !errors.Is(err, context.Canceled) {
			t.Errorf("Close with a cancelled ctx: got %v, want context.Canceled", err)
		}
		ctx, stop := context.WithTimeout(context.Background(), time.Second)
		defer stop()
		start := time.Now()
		if err := p.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Close with a 1s timeout: got %v, want context.DeadlineExceeded", err)
		}
		if got := time.Since(start); got != time.Second {
			t.Errorf("Close with a 1s timeout returned after %v, want 1s", got)
		}
		if err := p.TrySubmit(func() {}); !errors.Is(err, ErrClosed) {
			t.Errorf("TrySubmit after Close: got %v, want ErrClosed", err)
		}
		close(gate)
		p.Wait()
		synctest.Wait()
		if got := workerGoroutines(); got != 0 {
			t.Errorf("worker goroutines after Wait: got %d, want 0", got)
		}
	})
}

// TestStats checks every field of a snapshot at known points.
func TestStats(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, err := New(Config{Workers: 2, Queue: 4})
		if err != nil {
			t.Fatal(err)
		}
		gate := make(chan struct{})
		blockWorkers(t, p, gate)
		for range 3 {
			if err := p.TrySubmit(func() { time.Sleep(10 * time.Millisecond) }); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		check := func(when string, got Stats, want Stats) {
			t.Helper()
			got.QueueWait, got.RunTime = want.QueueWait, want.RunTime // checked apart
			if got != want {
				t.Errorf("Stats %s:\n got %+v\nwant %+v", when, got, want)
			}
		}
		check("with 2 running, 3 queued", p.Stats(), Stats{
			Workers: 2, Busy: 2, Queue: 4, Depth: 3, HighWater: 3, Submitted: 5,
		})
		if err := p.TrySubmit(func() {}); err != nil {
			t.Fatal(err)
		}
		if err := p.TrySubmit(func() {}); !errors.Is(err, ErrFull) {
			t.Fatalf("TrySubmit on a full queue: got %v, want ErrFull", err)
		}
		check("full, one refused", p.Stats(), Stats{
			Workers: 2, Busy: 2, Queue: 4, Depth: 4, HighWater: 4, Submitted: 6, Rejected: 1,
		})
		time.Sleep(5 * time.Millisecond) // the blocked jobs run 5ms (bubble time)
		close(gate)
		if err := p.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		s := p.Stats()
		check("after Close", s, Stats{
			Workers: 2, Queue: 4, HighWater: 4, Submitted: 6, Completed: 6, Rejected: 1,
		})
		if got := s.QueueWait.Total(); got != 6 {
			t.Errorf("QueueWait observations: got %d, want 6", got)
		}
		if got := s.RunTime.Total(); got != 6 {
			t.Errorf("RunTime observations: got %d, want 6", got)
		}
		// Bubble time is exact: the two gated jobs ran 5ms, three ran
		// 10ms, one took no time. Buckets are powers of two in µs.
		if got, want := s.RunTime.Quantile(1), 16384*time.Microsecond; got != want {
			t.Errorf("RunTime max bucket: got %v, want %v (10ms)", got, want)
		}
		// The last queued job waited for two 10ms jobs behind the gate.
		if got, want := s.QueueWait.Quantile(1), 16384*time.Microsecond; got != want {
			t.Errorf("QueueWait max bucket: got %v, want %v (waited 5ms + 10ms)", got, want)
		}
	})
}

// syncBuffer is a bytes.Buffer safe for a logger on a worker and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
