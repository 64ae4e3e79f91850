package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"
)

// serveConfig is what the serve flags say.
type serveConfig struct {
	addr        string
	proto       string
	model       string
	loops       int
	pin         bool
	lb          string
	maxConns    int
	idleTimeout time.Duration
	readBuf     int
}

func parseServe(args []string, stderr io.Writer) (serveConfig, error) {
	var c serveConfig
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:9000", "listen address (HOST:PORT, tcp6://[::1]:PORT, unix:///path)")
	fs.StringVar(&c.proto, "proto", "echo", "protocol: echo")
	fs.StringVar(&c.model, "model", "loop", "server model: loop (pinion) or goroutine (net package, one goroutine per connection)")
	fs.IntVar(&c.loops, "loops", runtime.GOMAXPROCS(0), "event loops (loop model)")
	fs.BoolVar(&c.pin, "pin", true, "pin each loop's thread to a CPU (Linux, loop model)")
	fs.StringVar(&c.lb, "lb", "reuseport", "load balancing: reuseport, roundrobin or leastconn (loop model)")
	fs.IntVar(&c.maxConns, "max-conns", 10000, "most connections served at once; beyond it new ones are closed (negative: no bound)")
	fs.DurationVar(&c.idleTimeout, "idle-timeout", 2*time.Minute, "close connections idle this long (0 or negative: never)")
	fs.IntVar(&c.readBuf, "read-buffer", 64<<10, "read buffer of each loop (loop model); the goroutine model starts each connection at 4 KiB")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if c.model != "loop" && c.model != "goroutine" {
		return c, fmt.Errorf("unknown model %q (want loop or goroutine)", c.model)
	}
	if c.loops < 1 {
		return c, fmt.Errorf("-loops must be at least 1, got %d", c.loops)
	}
	if c.readBuf < 512 {
		return c, fmt.Errorf("-read-buffer must be at least 512, got %d", c.readBuf)
	}
	return c, nil
}

// A server is one of the two models, running.
type server interface {
	addr() string
	loops() int
	shutdown(ctx context.Context) error
}

func serve(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseServe(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "pinion serve: %v\n", err)
		return 2
	}
	proto, err := newProtocol(cfg.proto)
	if err != nil {
		fmt.Fprintf(stderr, "pinion serve: %v\n", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var srv server
	if cfg.model == "loop" {
		srv, err = startLoopServer(cfg, proto, log)
	} else {
		srv, err = startGoroutineServer(cfg, proto, log)
	}
	if err != nil {
		fmt.Fprintf(stderr, "pinion serve: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "pinion: listening on %s (%s, %s, %d loops)\n", srv.addr(), cfg.proto, cfg.model, srv.loops())

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	sig := <-sigs
	log.Warn("shutting down; a second signal forces exit", "signal", sig)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.shutdown(ctx) }()
	select {
	case err = <-done:
	case <-sigs:
		fmt.Fprintln(stderr, "pinion serve: forced exit")
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "pinion serve: shutdown: %v\n", err)
		return 1
	}
	return 0
}
