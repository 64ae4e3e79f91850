package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"time"
)

// maxLoops is the most event loops gnet v2.10.0 starts: it clamps
// NumEventLoop to gfd.EventLoopIndexMax, 256, without saying so, so more
// is refused here rather than silently lowered.
const maxLoops = 256

// config is what the flags say.
type config struct {
	addr     string // the -addr given, resolved: "127.0.0.1:9000"
	proto    string // echo or http
	loops    int
	pin      bool // gnet's LockOSThread
	maxConns int  // negative: no bound
	readBuf  int  // gnet's ReadBufferCap, before its rounding
}

// parseFlags parses the command line. Usage and flag errors go to stderr;
// the error it returns is flag.ErrHelp for -h, or says which flag is
// wrong and why.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	var idleTimeout time.Duration
	fs := flag.NewFlagSet("gnetserve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:9000", "listen address, HOST:PORT with an explicit port (not 0: gnet binds each loop's listener separately)")
	fs.StringVar(&c.proto, "proto", "echo", "protocol: echo or http")
	fs.IntVar(&c.loops, "loops", runtime.GOMAXPROCS(0), fmt.Sprintf("event loops, 1 to %d (gnet NumEventLoop, multicore)", maxLoops))
	fs.BoolVar(&c.pin, "pin", false, "lock each loop's goroutine to an OS thread (gnet LockOSThread); gnet does not pin threads to CPUs")
	fs.IntVar(&c.maxConns, "max-conns", 10000, "most connections served at once; beyond it new ones are closed on open (negative: no bound)")
	fs.IntVar(&c.readBuf, "read-buffer", 64<<10, "read buffer of each loop, bytes (gnet ReadBufferCap: rounded up to a power of two, at least 1 KiB)")
	fs.DurationVar(&idleTimeout, "idle-timeout", 0, "must be 0: gnet has no idle timeout")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	addr, err := resolveAddr(c.addr)
	if err != nil {
		return c, err
	}
	c.addr = addr
	if c.proto != "echo" && c.proto != "http" {
		return c, fmt.Errorf("unknown protocol %q (want echo or http)", c.proto)
	}
	if c.loops < 1 || c.loops > maxLoops {
		return c, fmt.Errorf("-loops must be from 1 to %d, got %d", maxLoops, c.loops)
	}
	if c.maxConns == 0 {
		return c, errors.New("-max-conns must be positive, or negative for no bound, got 0")
	}
	if c.readBuf < 1 {
		return c, fmt.Errorf("-read-buffer must be positive, got %d", c.readBuf)
	}
	if idleTimeout != 0 {
		return c, fmt.Errorf("-idle-timeout must be 0: gnet has no idle timeout, got %v", idleTimeout)
	}
	return c, nil
}

// resolveAddr resolves a TCP HOST:PORT and refuses port 0. gnet v2.10.0
// with SO_REUSEPORT opens the first loop's listener from the address, then
// one more per loop from the same address string (engine_unix.go,
// runEventLoops), so port 0 would bind every loop to a different ephemeral
// port; and gnet never reports the port it bound.
func resolveAddr(s string) (string, error) {
	if strings.Contains(s, "://") {
		return "", fmt.Errorf("-addr %q: want HOST:PORT (TCP only)", s)
	}
	a, err := net.ResolveTCPAddr("tcp", s)
	if err != nil {
		return "", fmt.Errorf("-addr: %w", err)
	}
	if a.Port == 0 {
		return "", fmt.Errorf("-addr %q: port 0 is not supported: gnet binds each loop's SO_REUSEPORT listener separately, so each would get its own port; pass a free port", s)
	}
	return a.String(), nil
}
