package loop

import (
	"bytes"
	"io"
	"net"
	"sync"
	"testing"
)

// tickLog records, per tick, how much of something happened. A tick is
// told apart by the loop's clock reading at its start (l.now), which every
// callback of that tick sees.
type tickLog struct {
	mu    sync.Mutex
	ticks []int64
	count map[int64]int
}

func (g *tickLog) add(now int64, n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.count == nil {
		g.count = map[int64]int{}
	}
	if _, ok := g.count[now]; !ok {
		g.ticks = append(g.ticks, now)
	}
	g.count[now] += n
}

// perTick returns the amounts in tick order.
func (g *tickLog) perTick() []int {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]int, 0, len(g.ticks))
	for _, t := range g.ticks {
		out = append(out, g.count[t])
	}
	return out
}

// budgetCase is a budget and what it allows: at most most per tick, in
// at least ticks ticks (exactly one when ticks is 1).
type budgetCase struct {
	name                string
	budget, most, ticks int
}

// TestReadBudget: with 64 KiB waiting on one connection, a loop reads at
// most ReadBudget of it per tick (rounded up to whole reads of the read
// buffer), and every byte still arrives, in order; with the default
// budget of 1 MiB one tick takes it all. The budget is what keeps one busy
// connection from starving the others of the loop. On io_uring only the
// bytes are checked: how much one tick takes is bounded by the provided
// buffers the ring offers, a window that starts small (16 KiB) and grows
// when it runs out (docs/adr/0020-incremental-receive-buffers.md).
func TestReadBudget(t *testing.T) {
	const size = 64 << 10
	pre := make([]byte, size)
	for i := range pre {
		pre[i] = byte(i * 7)
	}
	for _, tc := range []budgetCase{
		{"budget 8KiB", 8 << 10, 8 << 10, size / (8 << 10)},
		{"budget 1MiB", 1 << 20, size, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.ticks > 1 && envIO(t) == IOUring {
				// On the ring the kernel's multishot receive fills
				// buffers as bytes arrive; the loop has no read call to
				// stop (docs/adr/0010-io-uring-backend.md).
				t.Skip("io_uring: the read budget is the kernel's")
			}
			var log tickLog
			var got bytes.Buffer
			done := make(chan struct{})
			h := &fnHandler{data: func(c *Conn) {
				in := c.Next(-1)
				log.add(c.loop.now, len(in))
				got.Write(in)
				if got.Len() == size {
					close(done)
				}
			}}
			l := runLoop(t, Config{Handler: h, ReadBufferSize: 4 << 10, ReadBudget: tc.budget})
			adoptFilled(t, l, pre)
			recv(t, done, "all the input")
			if !bytes.Equal(got.Bytes(), pre) {
				t.Fatalf("the input arrived changed or out of order")
			}
			if envIO(t) == IOUring {
				return
			}
			per := log.perTick()
			checkTicks(t, "bytes", per, tc.ticks, tc.most)
		})
	}
}

// TestTaskBudget: posted tasks run at most TaskBudget per tick, in the
// order they were posted, and none is lost.
func TestTaskBudget(t *testing.T) {
	const tasks = 10
	for _, tc := range []budgetCase{
		{"budget 3", 3, 3, 4},
		{"default budget", 0, tasks, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var log tickLog
			var mu sync.Mutex
			var order []int
			all := make(chan struct{})
			l := runLoop(t, Config{Handler: &fnHandler{}, TaskBudget: tc.budget})
			// Posted from the loop itself, so that all ten are queued
			// before the loop takes any of them.
			err := l.Post(func() {
				for i := range tasks {
					_ = l.Post(func() {
						log.add(l.now, 1)
						mu.Lock()
						order = append(order, i)
						if len(order) == tasks {
							close(all)
						}
						mu.Unlock()
					})
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			recv(t, all, "every task")
			mu.Lock()
			defer mu.Unlock()
			for i, v := range order {
				if v != i {
					t.Fatalf("tasks ran in the order %v", order)
				}
			}
			per := log.perTick()
			checkTicks(t, "tasks", per, tc.ticks, tc.most)
		})
	}
}

// TestAcceptBudget: with twelve connections waiting in a listener's
// queue, a loop accepts at most AcceptBudget of them per tick, and
// serves every one.
func TestAcceptBudget(t *testing.T) {
	const conns = 12
	for _, tc := range []budgetCase{
		{"budget 5", 5, 5, 3},
		{"default budget", 0, conns, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var log tickLog
			opened := make(chan struct{}, conns)
			h := &fnHandler{
				open: func(c *Conn) {
					log.add(c.loop.now, 1)
					opened <- struct{}{}
				},
				data: func(c *Conn) { _, _ = c.Write(c.Next(-1)) },
			}
			l, err := New(Config{Handler: h, AcceptBudget: tc.budget})
			if err != nil {
				t.Fatal(err)
			}
			addr, err := Listen([]*Loop{l}, "127.0.0.1:0", false, 0, 0, nil)
			if err != nil {
				t.Fatal(err)
			}
			// The handshakes complete in the kernel's queue before the
			// loop runs.
			var clients []net.Conn
			for range conns {
				c, err := net.Dial("tcp", addr.String())
				if err != nil {
					t.Fatal(err)
				}
				clients = append(clients, c)
			}
			go l.Run()
			t.Cleanup(func() {
				for _, c := range clients {
					_ = c.Close()
				}
				_ = l.Abort()
				waitDone(t, l)
			})
			for range conns {
				recv(t, opened, "an accepted connection")
			}
			for i, c := range clients {
				msg := []byte{byte(i)}
				if _, err := c.Write(msg); err != nil {
					t.Fatal(err)
				}
				got := make([]byte, 1)
				if _, err := io.ReadFull(c, got); err != nil || got[0] != msg[0] {
					t.Fatalf("client %d: echo %v, %v", i, got, err)
				}
			}
			per := log.perTick()
			checkTicks(t, "accepts", per, tc.ticks, tc.most)
		})
	}
}

// checkTicks fails unless the amounts per tick (per) stay at most most
// and took at least ticks ticks, or exactly one when ticks is 1: with
// everything waiting at once and a budget that covers it, one tick takes
// it all, which shows that the grouping by tick is real.
func checkTicks(t *testing.T, what string, per []int, ticks, most int) {
	t.Helper()
	if ticks == 1 && len(per) != 1 {
		t.Errorf("the %s took %d ticks %v; want one", what, len(per), per)
	}
	if len(per) < ticks {
		t.Errorf("the %s took %d ticks %v; want at least %d", what, len(per), per, ticks)
	}
	for i, n := range per {
		if n > most {
			t.Errorf("tick %d had %d %s; want at most %d (%v)", i, n, what, most, per)
		}
	}
}
