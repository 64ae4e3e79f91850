package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pinion-net/pinion/cmd/pinion/internal/proto"
)

// goroutineBuf is the first read buffer of a connection.
const goroutineBuf = 4 << 10

// goroutineServer serves a protocol with the net package, one goroutine per
// connection: the baseline pinion is compared against.
type goroutineServer struct {
	ln    net.Listener
	proto proto.Protocol
	cfg   serveConfig
	log   *slog.Logger
	slots chan struct{} // one per connection served; nil: no bound

	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	closed   bool                    // under mu: no connection is tracked any more
	stopping atomic.Bool             // set before shutdown wakes the readers; read per request without mu
	draining atomic.Bool             // set by drain (serve_drain.go); read per request without mu
	relays   map[*relayPair]struct{} // under mu: -proto proxy's pairs (proxy_goroutine.go)
	wg       sync.WaitGroup
}

func startGoroutineServer(cfg serveConfig, p proto.Protocol, log *slog.Logger) (server, error) {
	network, address := "tcp", cfg.addr
	if rest, ok := strings.CutPrefix(address, "unix://"); ok {
		network, address = "unix", rest
	} else if i := strings.Index(address, "://"); i >= 0 {
		network, address = address[:i], address[i+3:]
	}
	var ln net.Listener
	var err error
	if cfg.inherited != nil {
		ln, err = inheritedListener(cfg.inherited)
	} else {
		ln, err = net.Listen(network, address)
	}
	if err != nil {
		return nil, err
	}
	s := &goroutineServer{ln: ln, proto: p, cfg: cfg, log: log, conns: make(map[net.Conn]struct{}), relays: make(map[*relayPair]struct{})}
	if cfg.maxConns > 0 {
		s.slots = make(chan struct{}, cfg.maxConns)
	}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

func (s *goroutineServer) addr() string { return s.ln.Addr().String() }
func (s *goroutineServer) loops() int   { return 0 }

func (s *goroutineServer) accept() {
	defer s.wg.Done()
	backoff := 5 * time.Millisecond
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// EMFILE and friends: back off as the loop model does.
			s.log.Warn("accept failed", "err", err, "retry_in", backoff)
			time.Sleep(backoff)
			backoff = min(2*backoff, 500*time.Millisecond)
			continue
		}
		backoff = 5 * time.Millisecond
		if s.slots != nil {
			select {
			case s.slots <- struct{}{}:
			default:
				c.Close()
				continue
			}
		}
		if !s.track(c) {
			c.Close()
			return
		}
		s.wg.Add(1)
		go s.handle(c)
	}
}

func (s *goroutineServer) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *goroutineServer) untrack(c net.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	if s.slots != nil {
		<-s.slots
	}
}

// handle is one connection's goroutine: read, let the protocol consume,
// write its replies, keep what it left. The buffer starts small, as a
// typical net server's does, and doubles while a request needs more, up to
// the largest request allowed. Blocking work owed by a reply is a plain
// sleep here: blocking costs this model nothing but the goroutine.
func (s *goroutineServer) handle(c net.Conn) {
	defer s.wg.Done()
	defer s.untrack(c)
	if s.proto == nil {
		defer c.Close()
		s.relay(c)
		return
	}
	defer lingerClose(c, s.cfg.lingerTimeout())
	sc := &proto.Scratch{Peer: c}
	var out []byte
	buf := make([]byte, goroutineBuf)
	have := 0
	headerArmed := false
	for {
		if !headerArmed && s.cfg.idleTimeout > 0 && !s.extendDeadline(c, s.cfg.idleTimeout) {
			return
		}
		n, err := c.Read(buf[have:])
		have += n
		for have > 0 {
			sc.Now = time.Now()
			sc.Draining = s.draining.Load()
			used, reply, next := s.proto.Serve(sc, buf[:have], out[:0])
			out = reply[:0]
			if !writeReplies(c, reply, next) {
				return
			}
			have = copy(buf, buf[used:have])
			if next.Close || next.Err != nil {
				return
			}
			if used > 0 {
				headerArmed = false // a request completed: the next one gets a deadline of its own
			}
			if next.Partial && !headerArmed && s.cfg.headerTimeout > 0 {
				headerArmed = s.extendDeadline(c, s.cfg.headerTimeout)
			} else if !next.Partial {
				headerArmed = false
			}
			if used == 0 || next.Partial {
				break
			}
		}
		if have == len(buf) {
			if len(buf) >= s.cfg.maxInbound() {
				return // a request larger than the limit
			}
			buf = append(buf, make([]byte, len(buf))...)
		}
		if err != nil {
			return
		}
	}
}

// lingerClose closes c the way the loop model does, so that the replies
// already written reach the peer: it sends FIN, then reads and discards
// until the peer's FIN or linger has passed, and only then closes. Closing
// at once while the peer's pipelined input sits unread would make the
// kernel send a reset, which destroys replies the peer has not read yet.
// A negative linger closes at once.
//
// The linger owns c's read deadline: shutdown sets every tracked
// connection's deadline to now to wake the goroutines blocked serving, and
// it may do so after this one has started lingering, so a timeout before
// the linger's own deadline is that wake-up, and the deadline is set again.
// Only shutdown's forced close at its own deadline ends the wait early.
func lingerClose(c net.Conn, linger time.Duration) {
	defer c.Close()
	if linger < 0 {
		return
	}
	if !closeWrite(c) {
		return // not TCP or unix, or the peer is gone: nothing to protect
	}
	discardUntil(c, time.Now().Add(linger))
}

// discardUntil reads and drops c's input until the peer's FIN, an error, or
// deadline. A read deadline that comes earlier is someone's wake-up (see
// lingerClose), and the wait goes on.
func discardUntil(c net.Conn, deadline time.Time) {
	var buf [4 << 10]byte
	for {
		if c.SetReadDeadline(deadline) != nil {
			return
		}
		_, err := c.Read(buf[:])
		for err == nil {
			_, err = c.Read(buf[:])
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) || !time.Now().Before(deadline) {
			return // the peer's FIN, an error, a forced close, or the linger is over
		}
	}
}

// writeReplies writes one serve call's replies, sleeping first where they
// are owed after blocking work. It reports false when writing failed.
func writeReplies(c net.Conn, reply []byte, next proto.Action) bool {
	now, later := reply, []byte(nil)
	if next.Block > 0 {
		now, later = reply[:next.BlockFrom], reply[next.BlockFrom:]
	}
	if len(now) > 0 {
		if _, err := c.Write(now); err != nil {
			return false
		}
	}
	if next.Block > 0 {
		time.Sleep(next.Block) // the blocking work
		if _, err := c.Write(later); err != nil {
			return false
		}
	}
	return true
}

// shutdown closes the listener, then makes every connection's read return
// so its goroutine flushes and exits; at ctx's end it closes them all, and
// the upstream side of every relay.
func (s *goroutineServer) shutdown(ctx context.Context) error {
	defer proto.Close(s.proto)
	s.stopping.Store(true)
	s.mu.Lock()
	s.closed = true
	_ = s.ln.Close()
	for c := range s.conns {
		_ = c.SetReadDeadline(time.Now())
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	for c := range s.conns {
		_ = c.Close()
	}
	for p := range s.relays {
		_ = p.up.Close() // the relay's other side: a read of a silent upstream would wait on
	}
	s.mu.Unlock()
	<-done
	return ctx.Err()
}

// extendDeadline sets c's read deadline to d from now (the idle timeout, or
// the header timeout when a request starts), unless shutdown has begun. It
// takes no lock on this per-request path: stopping is set before shutdown
// sets its immediate deadlines, so if shutdown's deadline came first and
// this one undid it, the second look at stopping sees it and gives up.
func (s *goroutineServer) extendDeadline(c net.Conn, d time.Duration) bool {
	if s.stopping.Load() {
		return false
	}
	_ = c.SetReadDeadline(time.Now().Add(d))
	if s.draining.Load() && d > s.cfg.drainGrace {
		// Set after drain's deadlines, or drain began meanwhile: an idle
		// connection gets only the grace.
		_ = c.SetReadDeadline(time.Now().Add(s.cfg.drainGrace))
	}
	return !s.stopping.Load()
}
