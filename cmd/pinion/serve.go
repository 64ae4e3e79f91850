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

	"github.com/pinion-net/pinion/cmd/pinion/internal/proto"
	"github.com/pinion-net/pinion/cmd/pinion/internal/restart"
	"github.com/pinion-net/pinion/engine"
)

// serveConfig is what the serve flags say.
type serveConfig struct {
	addr        string
	proto       string
	model       string
	loops       int
	pin         bool
	lb          string
	io          string
	maxConns    int
	idleTimeout time.Duration
	linger      time.Duration // how long a server-side close waits for the peer's FIN; 0: defaultLinger, negative: close at once
	readBuf     int
	maxFreeIOs  int           // connection I/O states each loop keeps for reuse
	ringRelease time.Duration // io_uring: give idle receive buffers' pages back after this; negative: never

	offloadWorkers int           // 0: the engine's default; negative: no pool
	offloadQueue   int           // 0: the engine's default
	offloadPolicy  string        // pause or reject
	echoDelay      time.Duration // > 0: echo each chunk after this much blocking work

	admin        string        // the admin server's HOST:PORT; "": none
	slowCallback time.Duration // callbacks slower than this are counted and logged (0: off)
	logLevel     slog.Level

	headerTimeout time.Duration // a request must arrive whole within this (0: no bound)
	maxHeader     int           // HTTP request line and headers, bytes
	maxBody       int64         // HTTP body, bytes

	upstream       string        // -proto proxy: where to relay each connection
	connectTimeout time.Duration // -proto proxy: bound on the upstream connect

	proxyProtocol engine.ProxyProtocol // -proxy-protocol, -proxy-trust

	drainTimeout time.Duration // SIGTERM and restarts: the drain and shutdown end within this
	drainGrace   time.Duration // a connection idle this long in a drain is closed

	restartTimeout time.Duration  // a hot restart's new process must be ready within this
	inherited      []restart.File // sockets a hot restart handed over (serve_restart.go); nil: bind -addr
}

// defaultLinger is how long a server-side close waits for the peer's FIN
// unless -linger says otherwise: the engine's default LingerTimeout.
const defaultLinger = 2 * time.Second

// lingerTimeout returns how long a server-side close waits for the peer's
// FIN: the -linger flag, defaultLinger where it is 0, negative for none.
func (c serveConfig) lingerTimeout() time.Duration {
	if c.linger == 0 {
		return defaultLinger
	}
	return c.linger
}

// protoOptions returns the protocol settings of the flags.
func (c serveConfig) protoOptions() proto.Options {
	return proto.Options{EchoDelay: c.echoDelay, MaxHeader: c.maxHeader, MaxBody: c.maxBody}
}

// protocolOf returns the protocol the serve flags name, or nil for the
// proxy, which relays bytes and parses none.
func protocolOf(c serveConfig) (proto.Protocol, error) {
	if c.proto == "proxy" {
		return nil, nil
	}
	return proto.New(c.proto, c.protoOptions())
}

// maxInbound is the most unconsumed input a connection may hold: a whole
// request of the largest size allowed.
func (c serveConfig) maxInbound() int {
	if c.proto == "echo" {
		return 1 << 20
	}
	return c.maxHeader + int(c.maxBody) + 64<<10 // chunk framing and trailers
}

func parseServe(args []string, stderr io.Writer) (serveConfig, error) {
	var c serveConfig
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:9000", "listen address (HOST:PORT, tcp6://[::1]:PORT, unix:///path)")
	fs.StringVar(&c.proto, "proto", "echo", "protocol: echo, http, resp or proxy")
	fs.StringVar(&c.model, "model", "loop", "server model: loop (pinion) or goroutine (net package, one goroutine per connection)")
	fs.IntVar(&c.loops, "loops", runtime.GOMAXPROCS(0), "event loops (loop model)")
	fs.BoolVar(&c.pin, "pin", true, "pin each loop's thread to a CPU (Linux, loop model)")
	fs.StringVar(&c.lb, "lb", "reuseport", "load balancing: reuseport, roundrobin or leastconn (loop model)")
	fs.StringVar(&c.io, "io", "epoll", "I/O backend: epoll (default), uring, or auto (io_uring where the kernel allows it, else epoll) (loop model)")
	fs.IntVar(&c.maxConns, "max-conns", 10000, "most connections served at once; beyond it new ones are closed (negative: no bound)")
	fs.DurationVar(&c.idleTimeout, "idle-timeout", 2*time.Minute, "close connections idle this long (0 or negative: never)")
	fs.DurationVar(&c.linger, "linger", defaultLinger, "when the server closes a connection, it sends FIN after the last reply and waits this long for the peer's, discarding its input, so that the peer gets every reply (0 or negative: close at once, which resets a peer whose input is unread)")
	fs.IntVar(&c.readBuf, "read-buffer", 64<<10, "read buffer of each loop (loop model); the goroutine model starts each connection at 4 KiB")
	fs.IntVar(&c.maxFreeIOs, "max-free-ios", engine.DefaultMaxFreeIOs, "connection I/O states (64 bytes each) each loop keeps for reuse once connections go idle (loop model)")
	fs.DurationVar(&c.ringRelease, "ring-release-after", engine.DefaultRingReleaseAfter, "with the io_uring backend: give the receive buffers' pages back after a loop idled this long (negative: never; at least 1ms) (loop model)")
	fs.IntVar(&c.offloadWorkers, "offload-workers", 0, "offload pool workers (loop model; 0: 4 per CPU, 8 to 256; negative: no pool)")
	fs.IntVar(&c.offloadQueue, "offload-queue", 0, "offload tasks waiting for a worker, at most (loop model; 0: 64 per worker)")
	fs.StringVar(&c.offloadPolicy, "offload-policy", "pause", "when the offload queue is full: pause (stop reading the connection) or reject (loop model)")
	fs.DurationVar(&c.echoDelay, "echo-delay", 0, "with -proto echo: echo each chunk after D of blocking work (a sleep on the offload pool; in its own goroutine for -model goroutine)")
	fs.DurationVar(&c.headerTimeout, "header-timeout", 10*time.Second, "a request must arrive whole within this once it starts; trickled bytes do not extend it (0: no bound)")
	fs.IntVar(&c.maxHeader, "max-header", 8<<10, "largest HTTP request line and headers (431 beyond), and RESP inline command, bytes")
	fs.Int64Var(&c.maxBody, "max-body", 1<<20, "largest HTTP request body (413 beyond), and RESP bulk string, bytes")
	fs.StringVar(&c.upstream, "upstream", "", "with -proto proxy: relay every connection to HOST:PORT")
	fs.DurationVar(&c.connectTimeout, "connect-timeout", 5*time.Second, "with -proto proxy: give up connecting to the upstream after D (the client is closed)")

	proxyMode := fs.String("proxy-protocol", "off", "PROXY protocol (v1 and v2) before each connection's bytes: off or require (loop model)")
	proxyTrust := fs.String("proxy-trust", "", "with -proxy-protocol require: the networks (CIDR[,CIDR...]) a PROXY header is accepted from; nothing is trusted by default")
	fs.StringVar(&c.admin, "admin", "", "serve /metrics, /healthz, /readyz, /debug/loops, /debug/pprof/, /limits and POST /restart on HOST:PORT (a missing host means 127.0.0.1; default: no admin server)")
	fs.DurationVar(&c.slowCallback, "slow-callback", 100*time.Millisecond, "count and log handler callbacks slower than this (loop model; 0 or negative: off)")
	fs.TextVar(&c.logLevel, "log-level", slog.LevelWarn, "log level: debug, info, warn or error")
	fs.DurationVar(&c.drainTimeout, "drain-timeout", 10*time.Second, "on SIGTERM and after a hot restart: stop accepting, let connections finish, and exit within D (what is left is closed)")
	fs.DurationVar(&c.drainGrace, "drain-grace", time.Second, "during a drain, close a connection once it stayed idle for D (at once would race a request on the wire); with -proto proxy, a relay with no byte moved either way for D")
	fs.DurationVar(&c.restartTimeout, "restart-timeout", 10*time.Second, "on SIGUSR2 (hot restart): the new process must be ready within D, else it is killed and this one serves on")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if err := c.parseProxy(*proxyMode, *proxyTrust); err != nil {
		return c, err
	}
	if c.linger == 0 {
		c.linger = -1 // the flag's "0: close at once"; a zero serveConfig lingers
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
	if c.maxFreeIOs < 1 {
		return c, fmt.Errorf("-max-free-ios must be at least 1, got %d", c.maxFreeIOs)
	}
	if c.ringRelease >= 0 && c.ringRelease < engine.MinRingReleaseAfter {
		return c, fmt.Errorf("-ring-release-after must be at least %v (negative: never), got %v", engine.MinRingReleaseAfter, c.ringRelease)
	}
	if c.maxHeader < 256 || c.maxBody < 0 || c.maxBody > 1<<30 {
		return c, fmt.Errorf("-max-header must be at least 256 and -max-body within [0, 1 GiB], got %d and %d", c.maxHeader, c.maxBody)
	}
	if c.offloadQueue < 0 {
		return c, fmt.Errorf("-offload-queue must not be negative, got %d", c.offloadQueue)
	}
	if _, err := engine.ParseOffloadPolicy(c.offloadPolicy); err != nil || c.offloadPolicy == "" {
		return c, fmt.Errorf("unknown offload policy %q (want pause or reject)", c.offloadPolicy)
	}
	switch {
	case c.proto == "proxy" && c.upstream == "":
		return c, errors.New("-proto proxy needs -upstream HOST:PORT")
	case c.proto != "proxy" && c.upstream != "":
		return c, fmt.Errorf("-upstream works with -proto proxy only, got -proto %s", c.proto)
	case c.proto == "proxy" && c.connectTimeout <= 0:
		return c, fmt.Errorf("-connect-timeout must be positive, got %v", c.connectTimeout)
	case c.echoDelay < 0:
		return c, fmt.Errorf("-echo-delay must not be negative, got %v", c.echoDelay)
	case c.echoDelay > 0 && c.proto != "echo":
		return c, fmt.Errorf("-echo-delay works with -proto echo only, got -proto %s", c.proto)
	case c.restartTimeout <= 0:
		return c, fmt.Errorf("-restart-timeout must be positive, got %v", c.restartTimeout)
	case c.drainTimeout <= 0 || c.drainGrace <= 0:
		return c, fmt.Errorf("-drain-timeout and -drain-grace must be positive, got %v and %v", c.drainTimeout, c.drainGrace)
	case c.echoDelay > 0 && c.model == "loop" && c.offloadWorkers < 0:
		return c, errors.New("-echo-delay needs the offload pool: -offload-workers must not be negative")
	}
	return c, nil
}

// A server is one of the two models, running.
type server interface {
	addr() string
	loops() int
	shutdown(ctx context.Context) error
	// drain stops accepting and lets connections finish (serve_drain.go)
	// until none is left or ctx ends.
	drain(ctx context.Context) error
	// listeners returns duplicates of the listening sockets, named for
	// a hot restart (serve_restart.go).
	listeners() ([]restart.File, error)
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
	p, err := protocolOf(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "pinion serve: %v\n", err)
		return 2
	}
	if cfg.inherited, err = restart.Inherited(); err == nil && cfg.inherited == nil {
		cfg.inherited, err = systemdFiles()
	}
	if err != nil {
		fmt.Fprintf(stderr, "pinion serve: %v\n", err)
		return 1
	}
	defer closeInherited(cfg.inherited) // the servers serve on duplicates
	level := new(slog.LevelVar)
	level.Set(cfg.logLevel)
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	var srv server
	if cfg.model == "loop" {
		if n := spareProc(cfg.loops, runtime.GOMAXPROCS(0), os.Getenv("GOMAXPROCS")); n > 0 {
			runtime.GOMAXPROCS(n)
		}
		srv, err = startLoopServer(cfg, p, log)
	} else {
		srv, err = startGoroutineServer(cfg, p, log)
	}
	if err != nil {
		fmt.Fprintf(stderr, "pinion serve: %v\n", err)
		return 1
	}

	// Signals are caught before the address is printed: a script may send
	// SIGINT as soon as it reads the line.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	usr2 := make(chan os.Signal, 1)
	notifyRestart(usr2)
	defer signal.Stop(usr2)
	restartCtx, stopRestart := context.WithCancel(context.Background())
	defer stopRestart()
	rs, err := newRestarter(restartCtx, cfg, srv, log)
	if err != nil {
		log.Warn("hot restart unavailable", "err", err)
	}
	adm, err := startAdmin(cfg, srv, level, log, rs)
	if err != nil {
		fmt.Fprintf(stderr, "pinion serve: %v\n", err)
		_ = srv.shutdown(context.Background())
		return 1
	}
	line := fmt.Sprintf("pinion: listening on %s (%s, %s, %d loops)", srv.addr(), cfg.proto, cfg.model, srv.loops())
	if adm != nil {
		defer func() { // after the shutdown: /healthz answers until then
			if adm != nil {
				closeAdmin(adm, log)
			}
		}()
		adm.SetReady(true) // every listener is up
		line += ", admin " + adm.Addr()
	}
	fmt.Fprintln(stdout, line)
	if err := restart.Ready(); err != nil {
		log.Error("cannot tell the old process we are ready", "err", err)
	}
	var restarted <-chan int
	if rs != nil {
		rs.adm.Store(adm)
		restarted = rs.ready
	}
	var why string // what ended the serving
wait:
	for {
		select {
		case sig := <-sigs:
			why = sig.String()
			stopRestart() // a restart under way is abandoned: its process is killed
			if adm != nil {
				adm.SetReady(false) // the first thing a drain does
			}
			break wait
		case <-usr2:
			if rs == nil {
				log.Warn("hot restart unavailable; SIGUSR2 ignored")
				continue
			}
			rs.trigger()
		case <-restarted:
			why = "hot restart"
			if adm != nil {
				// The new process answers on the admin socket now.
				closeAdmin(adm, log)
				adm = nil
			}
			break wait
		}
	}
	log.Warn("shutting down; a second signal forces exit", "cause", why, "pid", os.Getpid(), "drain_timeout", cfg.drainTimeout)
	done := make(chan error, 1)
	go func() { done <- drainAndShutdown(srv, cfg.drainTimeout, log) }()
	select {
	case err = <-done:
	case <-sigs:
		fmt.Fprintln(stderr, "pinion serve: forced exit")
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "pinion serve: %v\n", err)
		return 1
	}
	return 0
}

// parseProxy fills c.proxyProtocol from the -proxy-protocol and
// -proxy-trust flags.
func (c *serveConfig) parseProxy(mode, trust string) error {
	m, err := engine.ParseProxyMode(mode)
	if err != nil {
		return fmt.Errorf("unknown -proxy-protocol %q (want off or require)", mode)
	}
	nets, err := engine.ParseProxyTrust(trust)
	if err != nil {
		return fmt.Errorf("-proxy-trust: %w", err)
	}
	switch {
	case m == engine.ProxyOff && len(nets) > 0:
		return errors.New("-proxy-trust needs -proxy-protocol require")
	case m == engine.ProxyRequire && len(nets) == 0:
		return errors.New("-proxy-protocol require needs -proxy-trust: the networks of the proxies (0.0.0.0/0,::/0 trusts every source)")
	case m == engine.ProxyRequire && c.model != "loop":
		return errors.New("-proxy-protocol require works with -model loop only")
	}
	c.proxyProtocol = engine.ProxyProtocol{Mode: m, Trusted: nets}
	return nil
}
