package load

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// dialWidth is how many connections are dialed at once; spreadFrom is the
// number of connections from which a client of 127.0.0.1 dials from
// 127.0.0.2–127.0.0.9 in turn, so that runs of thousands of connections,
// repeated while earlier ones sit in TIME_WAIT, do not run out of the
// ephemeral ports of one address pair.
const (
	dialWidth  = 64
	spreadFrom = 1000
	spreadLast = 9
)

// sourceAddrs returns the local addresses to dial from, or nil for the
// kernel's choice.
func sourceAddrs(addr string, conns int) []net.Addr {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host != "127.0.0.1" || conns < spreadFrom {
		return nil
	}
	var src []net.Addr
	for b := byte(2); b <= spreadLast; b++ {
		src = append(src, &net.TCPAddr{IP: net.IPv4(127, 0, 0, b)})
	}
	return src
}

// dialResult is what dialing every connection gave.
type dialResult struct {
	conns    []net.Conn // nil where dialing (or setup) failed
	failed   int
	firstErr error
}

func (d *dialResult) open() int { return len(d.conns) - d.failed }

func (d *dialResult) closeAll() {
	for _, c := range d.conns {
		if c != nil {
			_ = c.Close()
		}
	}
}

// dialAll opens cfg.conns TCP connections, dialWidth at a time, and runs
// setup (when not nil) on each new one; a connection whose setup fails is
// closed and counted as failed. The whole of it ends within cfg.timeout:
// every dial and setup must be done by then.
func dialAll(cfg loadConfig, setup func(i int, c net.Conn, deadline time.Time) error) *dialResult {
	deadline := time.Now().Add(cfg.timeout)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	src := sourceAddrs(cfg.addr, cfg.conns)
	res := &dialResult{conns: make([]net.Conn, cfg.conns)}
	var failed atomic.Int64
	var mu sync.Mutex
	fail := func(err error) {
		failed.Add(1)
		mu.Lock()
		if res.firstErr == nil {
			res.firstErr = err
		}
		mu.Unlock()
	}
	parallel(cfg.conns, dialWidth, func(i int) {
		d := net.Dialer{Timeout: cfg.timeout}
		if src != nil {
			d.LocalAddr = src[i%len(src)]
		}
		c, err := d.DialContext(ctx, "tcp", cfg.addr)
		if err != nil {
			fail(err)
			return
		}
		if setup != nil {
			if err := setup(i, c, deadline); err != nil {
				_ = c.Close()
				fail(err)
				return
			}
		}
		res.conns[i] = c
	})
	res.failed = int(failed.Load())
	return res
}

// parallel runs fn(i) for every i in [0, n), at most width at a time, and
// returns when all have returned.
func parallel(n, width int, fn func(i int)) {
	var wg sync.WaitGroup
	slots := make(chan struct{}, width)
	for i := range n {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			fn(i)
		})
	}
	wg.Wait()
}
