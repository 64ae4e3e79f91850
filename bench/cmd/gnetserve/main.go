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
	"syscall"
	"time"
)

// stopTimeout bounds how long the engine may take to stop after a signal.
const stopTimeout = 10 * time.Second

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the command: it parses args, serves until SIGINT or SIGTERM, and
// returns the exit status: 0 after a clean stop (and for -h), 2 for bad
// flags, 1 when the engine fails to start or to stop.
func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "gnetserve: %v\n", err)
		return 2
	}
	// Signals are caught before the address is printed: a script may send
	// SIGINT as soon as it reads the line. Once the first one has arrived
	// stop restores the default action, so a second one ends the process
	// even if gnet hangs while stopping.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop()
	}()
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if err := serve(ctx, cfg, stdout, log); err != nil {
		fmt.Fprintf(stderr, "gnetserve: %v\n", err)
		return 1
	}
	return 0
}
