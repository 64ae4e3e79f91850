package loop

import (
	"testing"
)

// TestTickBlocksAfterEvents: with epoll, a tick that handled events does
// not poll again with a zero timeout before it waits; its next poll is the
// one that waits, as a C loop's epoll_wait does. A client that sends one
// byte and waits for its echo, fifty times, costs the loop one poll per
// exchange, where a zero-timeout poll after each busy tick cost two.
func TestTickBlocksAfterEvents(t *testing.T) {
	if envIO(t) == IOUring {
		t.Skip("io_uring: a busy tick enters the ring without waiting, to submit its sends")
	}
	waits := make(chan uint64, 1)
	h := &fnHandler{data: func(c *Conn) {
		_, _ = c.Write(c.Next(-1))
		waits <- c.loop.waits // read on the loop's goroutine
	}}
	l := runLoop(t, Config{Handler: h})
	peer := adoptPair(t, l)
	const exchanges = 50
	var first, last uint64
	buf := make([]byte, 1)
	for i := range exchanges {
		if _, err := peer.Write([]byte{byte(i)}); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		last = recv(t, waits, "OnData")
		if _, err := peer.Read(buf); err != nil || buf[0] != byte(i) {
			t.Fatalf("echo %d: got %q, %v", i, buf, err)
		}
		if i == 0 {
			first = last
		}
	}
	// An EINTR (a signal to the thread) can add a poll now and then.
	if per := float64(last-first) / (exchanges - 1); per > 1.5 {
		t.Errorf("%.2f polls per exchange, want 1 (a zero-timeout poll after each busy tick makes 2)", per)
	}
}
