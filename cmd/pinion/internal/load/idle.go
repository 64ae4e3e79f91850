package load

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// loadIdle opens cfg.conns connections, exchanges one request of cfg.proto
// and its verified response on each (for -proto resp -op get, the SET that
// starts a connection), prints "ready N" on stdout, and holds them idle
// until stop is closed. Any connection that fails makes it give up at once
// (exit status 1) rather than hold fewer than asked.
func loadIdle(cfg loadConfig, stdout, stderr io.Writer, stop <-chan struct{}) int {
	proto, err := newLoadProto(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "pinion load: %v\n", err)
		return 2
	}
	began := time.Now()
	dialed := dialAll(cfg, func(i int, c net.Conn, deadline time.Time) error {
		if err := c.SetDeadline(deadline); err != nil {
			return err
		}
		if err := newLoadConn(c, proto, i, 1, nil).batch(time.Now(), 1); err != nil {
			return fmt.Errorf("exchange: %w", err)
		}
		return c.SetDeadline(time.Time{})
	})
	defer dialed.closeAll()
	if dialed.failed > 0 {
		fmt.Fprintf(stderr, "pinion load: %d of %d idle connections failed; first: %v\n",
			dialed.failed, cfg.conns, dialed.firstErr)
		return 1
	}
	fmt.Fprintf(stderr, "pinion load: %d idle connections open in %v\n", cfg.conns, time.Since(began).Round(time.Millisecond))
	fmt.Fprintf(stdout, "ready %d\n", cfg.conns)
	<-stop
	return 0
}

// idleStop returns a channel closed at SIGINT, SIGTERM or the end of stdin,
// whichever comes first. Its goroutines live as long as the process, which
// ends once the channel closes.
func idleStop(stdin io.Reader) <-chan struct{} {
	stop := make(chan struct{})
	ended := make(chan struct{}, 1)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		_, _ = io.Copy(io.Discard, stdin)
		ended <- struct{}{}
	}()
	go func() {
		select {
		case <-sigs:
		case <-ended:
		}
		signal.Stop(sigs)
		close(stop)
	}()
	return stop
}
