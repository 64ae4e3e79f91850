package tcptest

import (
	"io"
	"net"
	"sync"
	"testing"
)

// Serve listens on a loopback port and runs handle on its own goroutine
// for each connection it accepts, until the test ends; it returns the
// address to dial. handle need not close its connection: Serve closes it
// when handle returns. A nil handle holds every connection open, reading
// nothing, until the test ends (a peer that never answers). When the test
// ends (t.Cleanup), Serve closes the listener and every connection still
// open, which ends the reads and writes handle is blocked in, and waits for
// every handle to return; so a handle must not block on anything else that
// outlives the test.
func Serve(t testing.TB, handle func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("tcptest: listen: %v", err)
	}
	s := &server{ln: ln, open: make(map[net.Conn]struct{})}
	t.Cleanup(s.close)
	s.wg.Go(func() { s.accept(handle) })
	return ln.Addr().String()
}

type server struct {
	ln net.Listener
	wg sync.WaitGroup // the accept loop and every handle

	mu     sync.Mutex // guards open and closed
	open   map[net.Conn]struct{}
	closed bool
}

func (s *server) accept(handle func(net.Conn)) {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return // closed by close
		}
		if !s.track(c) {
			_ = c.Close()
			return
		}
		if handle == nil {
			continue // held until close
		}
		// Added while accept is counted in wg, so never after Wait saw
		// zero.
		s.wg.Go(func() {
			defer s.untrack(c)
			handle(c)
		})
	}
}

// track records c as open, unless close already ran.
func (s *server) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.open[c] = struct{}{}
	return true
}

func (s *server) untrack(c net.Conn) {
	s.mu.Lock()
	delete(s.open, c)
	s.mu.Unlock()
	_ = c.Close()
}

func (s *server) close() {
	_ = s.ln.Close()
	s.mu.Lock()
	s.closed = true
	for c := range s.open {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// Echo sends back every byte c receives, in order, until the peer's FIN;
// then it sends its own FIN. If the echo ends with an error (a reset, or
// the test ending), it only returns.
func Echo(c net.Conn) {
	if _, err := io.Copy(c, c); err != nil {
		return
	}
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
}
