package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Config says what the admin server serves. Only Addr is required.
type Config struct {
	// Addr is HOST:PORT; a missing host means loopback (127.0.0.1), never
	// every interface. Port 0 picks a free port (see Server.Addr).
	Addr string
	// Metrics writes the server's own metrics (the engine's WriteMetrics);
	// the process's are appended to them. Nil: process metrics only.
	Metrics func(w io.Writer) error
	// Loops returns the JSON-encodable snapshot of /debug/loops; nil: 404.
	Loops func() any
	// Limits reads (no values) or changes the runtime limits; nil: 404.
	Limits func(ctx context.Context, change map[string]string) (current map[string]string, err error)
	// Logger receives the server's errors; default discards them.
	Logger *slog.Logger
	// MaxConns bounds the admin connections open at once; default 32.
	MaxConns int
	// Restart hot-restarts the server (POST /restart): it returns once a
	// new process serves, with a line saying which, or with why not (the
	// server serves on). errors.Is(err, ErrRestartBusy) answers 409; any
	// other error 500. Nil: 404.
	Restart func(ctx context.Context) (string, error)
	// Listener, when set, is an open TCP socket to serve on instead of
	// listening on Addr: the one a hot restart handed over. Close closes
	// it.
	Listener net.Listener
}

// Server is a running admin server.
type Server struct {
	cfg   Config
	ln    net.Listener
	raw   net.Listener // ln without the connection cap, for File
	srv   *http.Server
	ready atomic.Bool
	bufs  sync.Pool // of *buf, for /metrics

	procMu sync.Mutex // serializes reads of proc
	proc   *procStat
	done   chan struct{}
	err    error // of Serve, read after done
}

// The admin server's timeouts: a request must arrive within readTimeout;
// a response, pprof's 30-second profiles included, must be written within
// writeTimeout.
const (
	readTimeout  = 10 * time.Second
	writeTimeout = 70 * time.Second
	idleTimeout  = 60 * time.Second
)

// Start listens on cfg.Addr and serves on a goroutine of its own. The
// server starts not ready (/readyz 503) until SetReady(true).
func Start(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 32
	}
	ln := cfg.Listener
	if ln == nil {
		addr, err := loopbackUnlessNamed(cfg.Addr)
		if err != nil {
			return nil, err
		}
		if ln, err = net.Listen("tcp", addr); err != nil {
			return nil, fmt.Errorf("admin: %w", err)
		}
	}
	s := &Server{cfg: cfg, ln: newCapListener(ln, cfg.MaxConns), raw: ln, done: make(chan struct{}), proc: openProcStat()}
	s.srv = &http.Server{
		Handler:           s.routes(),
		ReadHeaderTimeout: readTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(s.ln); !errors.Is(err, http.ErrServerClosed) {
			s.err = err
			cfg.Logger.Error("admin server stopped", "err", err)
		}
	}()
	return s, nil
}

// loopbackUnlessNamed returns addr with 127.0.0.1 for a missing host.
func loopbackUnlessNamed(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("admin: address %q: %w", addr, err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return "", fmt.Errorf("admin: address %q: bad port %q", addr, port)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), nil
}

// Addr returns the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// File returns a duplicate of the listening socket, for handing to a new
// process (Config.Listener there). The caller closes it.
func (s *Server) File() (*os.File, error) {
	f, ok := s.raw.(interface{ File() (*os.File, error) })
	if !ok {
		return nil, fmt.Errorf("admin: a %T cannot be handed over", s.raw)
	}
	return f.File()
}

// SetReady sets what /readyz answers: 200 when ready, else 503.
func (s *Server) SetReady(ready bool) { s.ready.Store(ready) }

// Close stops the server: the listener at once, then open requests get
// until ctx ends to finish. After it /healthz no longer answers.
func (s *Server) Close(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if err != nil {
		err = errors.Join(err, s.srv.Close())
	}
	<-s.done
	s.proc.close()
	return err
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !s.ready.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "not ready\n")
			return
		}
		_, _ = io.WriteString(w, "ready\n")
	})
	mux.HandleFunc("GET /metrics", s.metrics)
	if s.cfg.Loops != nil {
		mux.HandleFunc("GET /debug/loops", func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, http.StatusOK, s.cfg.Loops())
		})
	}
	if s.cfg.Limits != nil {
		mux.HandleFunc("GET /limits", s.limits)
		mux.HandleFunc("PUT /limits", s.limits)
		mux.HandleFunc("POST /limits", s.limits)
	}
	if s.cfg.Restart != nil {
		mux.HandleFunc("POST /restart", s.restart)
	}
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	return mux
}

// metrics serves the exposition: the configured metrics, then the
// process's. The buffer is pooled so a scrape allocates little.
func (s *Server) metrics(w http.ResponseWriter, _ *http.Request) {
	b, _ := s.bufs.Get().(*buf)
	if b == nil {
		b = new(buf)
	}
	defer s.bufs.Put(b)
	b.b = b.b[:0]
	if s.cfg.Metrics != nil {
		if err := s.cfg.Metrics(b); err != nil {
			http.Error(w, "metrics: "+err.Error(), http.StatusInternalServerError)
			return
		}
	}
	s.procMu.Lock()
	b.b = appendProcessMetrics(b.b, s.proc)
	s.procMu.Unlock()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b.b)))
	_, _ = w.Write(b.b)
}

type buf struct{ b []byte }

func (b *buf) Write(p []byte) (int, error) { b.b = append(b.b, p...); return len(p), nil }
