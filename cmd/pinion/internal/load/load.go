package load

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

// maxSize bounds -size: a RESP GET reply of that value, with its framing,
// still fits the largest response a connection reads (maxResponse).
const maxSize = maxResponse - 64

// loadConfig is what the load flags say.
type loadConfig struct {
	addr     string
	proto    string
	conns    int
	duration time.Duration
	warmup   time.Duration
	pipeline int
	size     int
	timeout  time.Duration
	json     bool
	idle     bool

	path   string // http: the request target
	status int    // http: the status every response must have
	op     string // resp: get or set
}

func parseLoad(args []string, stderr io.Writer) (loadConfig, error) {
	var c loadConfig
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:9000", "server address (HOST:PORT)")
	fs.StringVar(&c.proto, "proto", "echo", "protocol: echo, http or resp")
	fs.IntVar(&c.conns, "conns", 100, "connections")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "measured time, after the warm-up")
	fs.DurationVar(&c.warmup, "warmup", time.Second, "time before the measured window; its requests are not counted")
	fs.IntVar(&c.pipeline, "pipeline", 1, "requests each connection keeps in flight")
	fs.IntVar(&c.size, "size", 64, "echo: request size in bytes; resp: value size in bytes; http: unused")
	fs.DurationVar(&c.timeout, "timeout", 5*time.Second, "connect timeout, and the longest a connection waits for a response")
	fs.BoolVar(&c.json, "json", false, "print the report as one JSON object")
	fs.BoolVar(&c.idle, "idle", false, "open -conns connections, exchange one request and response on each, print \"ready N\", "+
		"then hold them idle until SIGINT, SIGTERM or the end of stdin")
	fs.StringVar(&c.path, "path", "/plaintext", "http: the path every request gets")
	fs.IntVar(&c.status, "status", 200, "http: the status every response must have")
	fs.StringVar(&c.op, "op", "get", "resp: get (one SET per connection, then GETs of its value) or set")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `usage: pinion load -addr HOST:PORT -proto echo|http|resp -conns N -duration D -pipeline P -size S
                   [-path P] [-status N] [-op get|set] [-warmup D] [-timeout D] [-json]
       pinion load -idle -addr HOST:PORT -proto echo|http|resp -conns N [-size S] [-timeout D]

Each connection writes -pipeline requests, reads and checks every response,
and repeats until the warm-up and the measured window are over. Progress
lines go to stderr; "pinion load: measuring" is printed the moment the
warm-up ends and "pinion load: measured" when the window ends, so a caller
can sample the server exactly over the window. The exit status is 1 when a
response did not match its request or nothing could be measured.

Protocols:
  echo  requests of -size pseudo-random bytes; the response must be the
        same bytes.
  http  "GET -path HTTP/1.1" with a Host header; every response must be
        HTTP/1.1 with Content-Length (not chunked), keep the connection
        alive and have status -status. With -status 200 the body is
        checked too for /plaintext ("Hello, World!") and /json
        ({"message":"Hello, World!"}); for any other path only the status.
  resp  each connection has its own key, key:<8-digit id>, and a value of
        -size printable bytes. -op set sends "SET key value" and wants +OK;
        -op get starts each connection with one SET and then sends
        "GET key", wanting the value back.

`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if _, _, err := net.SplitHostPort(c.addr); err != nil {
		return c, fmt.Errorf("-addr: %w", err)
	}
	switch {
	case c.conns < 1:
		return c, fmt.Errorf("-conns must be at least 1, got %d", c.conns)
	case c.pipeline < 1:
		return c, fmt.Errorf("-pipeline must be at least 1, got %d", c.pipeline)
	case c.size < 1:
		return c, fmt.Errorf("-size must be at least 1, got %d", c.size)
	case c.size > maxSize:
		// Each connection holds a few copies of a request or value; this
		// keeps a typo from asking for gigabytes per connection.
		return c, fmt.Errorf("-size must be at most %d, got %d", maxSize, c.size)
	case !c.idle && c.duration <= 0:
		return c, fmt.Errorf("-duration must be positive, got %v", c.duration)
	case c.warmup < 0:
		return c, fmt.Errorf("-warmup must not be negative, got %v", c.warmup)
	case c.timeout <= 0:
		return c, fmt.Errorf("-timeout must be positive, got %v", c.timeout)
	case c.status < 200 || c.status > 599:
		return c, fmt.Errorf("-status must be from 200 to 599, got %d", c.status)
	case c.op != "get" && c.op != "set":
		return c, fmt.Errorf("-op must be get or set, got %q", c.op)
	}
	if _, err := newLoadProto(c); err != nil {
		return c, err
	}
	return c, nil
}

// Run is "pinion load": a closed-loop load generator, or with -idle a
// holder of idle connections for measuring a server's memory, which holds
// them until SIGINT, SIGTERM or the end of standard input. It returns the
// exit status: 0, 1 when the run failed or measured nothing, 2 for bad
// flags.
func Run(args []string, stdout, stderr io.Writer) int {
	return RunUntil(nil, args, stdout, stderr)
}

// RunUntil is Run, except that with -idle it holds the connections until
// stop is closed (nil: as Run does).
func RunUntil(stop <-chan struct{}, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseLoad(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "pinion load: %v\n", err)
		return 2
	}
	if cfg.idle {
		if stop == nil {
			stop = idleStop(os.Stdin)
		}
		return loadIdle(cfg, stdout, stderr, stop)
	}
	res, err := runLoad(cfg, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "pinion load: %v\n", err)
		return 1
	}
	if cfg.json {
		err = res.writeJSON(stdout)
	} else {
		err = res.writeText(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "pinion load: %v\n", err)
		return 1
	}
	switch {
	case res.VerifyErrors > 0:
		fmt.Fprintf(stderr, "pinion load: %d verification errors; first: %s\n", res.VerifyErrors, res.FirstError)
		return 1
	case res.Requests == 0:
		fmt.Fprintln(stderr, "pinion load: no request completed in the measured window")
		return 1
	}
	return 0
}
