package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/pinion-net/pinion/cmd/pinion/internal/top"
)

// topCmd is `pinion top -admin HOST:PORT [-once] [-interval D]`.
func topCmd(args []string, stdout, stderr io.Writer) int {
	var cfg top.Config
	fs := flag.NewFlagSet("top", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Admin, "admin", "127.0.0.1:9100", "admin address of the pinion serve to watch (its -admin)")
	fs.BoolVar(&cfg.Once, "once", false, "print one frame, without ANSI control codes, and exit")
	fs.DurationVar(&cfg.Interval, "interval", time.Second, "refresh period; rates are over one period")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "pinion top: %v\n", err)
		return 2
	}
	if fs.NArg() > 0 || cfg.Interval <= 0 {
		fmt.Fprintf(stderr, "pinion top: unexpected arguments %v or a non-positive -interval %v\n", fs.Args(), cfg.Interval)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := top.Run(ctx, cfg, stdout); err != nil {
		fmt.Fprintf(stderr, "pinion top: %v\n", err)
		return 1
	}
	return 0
}
