package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pinion-net/pinion/cmd/pinion/internal/admin"
	"github.com/pinion-net/pinion/cmd/pinion/internal/restart"
	"github.com/pinion-net/pinion/engine"
)

// The hot restart of `pinion serve` (docs/operations.md): on SIGUSR2 the
// server starts its binary again with the same arguments and hands it every
// listening socket (internal/restart), each named for what it is:
//
//	admin          the -admin socket
//	ADDR#N         loop N's socket of a per-loop SO_REUSEPORT set (loop model)
//	ADDR           any other listening socket
//
// The new process serves on the very sockets (so no queued connection is
// lost) and says it is ready once its listening line is printed; only then
// does the old one close its admin server (the new one answers on that
// socket now), drain and exit within -drain-timeout. A new process that
// fails to start, exits, or is not ready within -restart-timeout is killed,
// and the old one goes on serving and logs why. One restart runs at a
// time: a SIGUSR2 during one is logged and ignored.

// adminFile is the name of the handed-over admin socket.
const adminFile = "admin"

// listeners returns duplicates of the engine's listening sockets, named
// for the new process.
func (s *loopServer) listeners() ([]restart.File, error) {
	ls, err := s.e.Listeners()
	if err != nil {
		return nil, err
	}
	out := make([]restart.File, len(ls))
	for i, l := range ls {
		name := l.File.Name()
		if l.PerLoop {
			name += "#" + strconv.Itoa(l.Loop)
		}
		out[i] = restart.File{Name: name, File: l.File}
	}
	return out, nil
}

// listeners returns a duplicate of the listening socket.
func (s *goroutineServer) listeners() ([]restart.File, error) {
	if u, ok := s.ln.(*net.UnixListener); ok {
		u.SetUnlinkOnClose(false) // the path now belongs to the new process too
	}
	fl, ok := s.ln.(interface{ File() (*os.File, error) })
	if !ok {
		return nil, fmt.Errorf("a %T cannot be handed over", s.ln)
	}
	f, err := fl.File()
	if err != nil {
		return nil, err
	}
	return []restart.File{{Name: s.ln.Addr().String(), File: f}}, nil
}

// inheritedListeners returns the server's sockets among those a parent
// handed over, as engine Listeners.
func inheritedListeners(files []restart.File) ([]engine.Listener, error) {
	var out []engine.Listener
	for _, f := range files {
		if f.Name == adminFile {
			continue
		}
		l := engine.Listener{File: f.File}
		if i := strings.LastIndexByte(f.Name, '#'); i >= 0 {
			n, err := strconv.Atoi(f.Name[i+1:])
			if err != nil || n < 0 {
				return nil, fmt.Errorf("inherited socket %q: bad loop number", f.Name)
			}
			l.PerLoop, l.Loop = true, n
		}
		out = append(out, l)
	}
	if len(out) == 0 {
		return nil, errors.New("the parent handed over no listening socket")
	}
	return out, nil
}

// inheritedListener returns the goroutine model's one listener from the
// handed-over sockets.
func inheritedListener(files []restart.File) (net.Listener, error) {
	ls, err := inheritedListeners(files)
	if err != nil {
		return nil, err
	}
	if len(ls) != 1 {
		return nil, fmt.Errorf("-model goroutine serves one listening socket, the parent handed over %d", len(ls))
	}
	return net.FileListener(ls[0].File)
}

// inheritedAdmin returns the handed-over admin socket, or nil.
func inheritedAdmin(files []restart.File) (net.Listener, error) {
	for _, f := range files {
		if f.Name == adminFile {
			return net.FileListener(f.File)
		}
	}
	return nil, nil
}

// systemdFiles returns the sockets systemd's socket activation passed to
// this process (LISTEN_FDS), named as LISTEN_FDNAMES names them, or nil.
// A socket named "admin" is the admin server's; the others are served as
// one listener each, whatever -addr says.
func systemdFiles() ([]restart.File, error) {
	ls, err := engine.SystemdListeners()
	if err != nil || len(ls) == 0 {
		return nil, err
	}
	out := make([]restart.File, len(ls))
	for i, l := range ls {
		out[i] = restart.File{Name: strings.ReplaceAll(l.File.Name(), "#", "_"), File: l.File}
	}
	return out, nil
}

// closeInherited closes this process's copies of the handed-over sockets
// once the servers serve on their own duplicates.
func closeInherited(files []restart.File) {
	for _, f := range files {
		_ = f.File.Close()
	}
}

// restarter runs the hot restarts of one server.
type restarter struct {
	up    restart.Upgrader
	srv   server
	adm   atomic.Pointer[admin.Server] // nil without -admin; set once the admin server runs
	log   *slog.Logger
	ctx   context.Context // ends when the server stops: a restart under way is abandoned
	busy  atomic.Bool
	ready chan int // the new process's PID, once it is ready
}

func newRestarter(ctx context.Context, cfg serveConfig, srv server, log *slog.Logger) (*restarter, error) {
	path, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("hot restart: cannot find this binary: %w", err)
	}
	return &restarter{
		up:    restart.Upgrader{Path: path, Args: os.Args[1:], ReadyTimeout: cfg.restartTimeout},
		srv:   srv,
		log:   log,
		ctx:   ctx,
		ready: make(chan int, 1),
	}, nil
}

// trigger runs a restart on a goroutine of its own (SIGUSR2).
func (r *restarter) trigger() {
	go func() {
		if _, err := r.run(); errors.Is(err, admin.ErrRestartBusy) {
			r.log.Warn("hot restart already in progress; SIGUSR2 ignored")
		}
	}()
}

// request runs a restart for POST /restart and says how it went.
func (r *restarter) request(context.Context) (string, error) {
	pid, err := r.run()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("new process %d serves; process %d drains", pid, os.Getpid()), nil
}

// run restarts unless a restart runs (admin.ErrRestartBusy). A new process
// that is ready is announced on r.ready, and its PID returned; a failure
// is logged and returned, and leaves this process serving.
func (r *restarter) run() (int, error) {
	if !r.busy.CompareAndSwap(false, true) {
		return 0, admin.ErrRestartBusy
	}
	start := time.Now()
	pid, err := r.spawn(r.ctx)
	if err != nil {
		r.log.Error("hot restart failed; still serving", "pid", os.Getpid(), "err", err)
		r.busy.Store(false)
		return 0, err
	}
	r.log.Warn("hot restart: new process ready; draining", "pid", os.Getpid(), "new_pid", pid,
		"took", time.Since(start).Round(time.Millisecond))
	r.ready <- pid // busy stays set: this process is on its way out
	return pid, nil
}

// spawn hands every listening socket to a new process and waits until it
// is ready.
func (r *restarter) spawn(ctx context.Context) (int, error) {
	files, err := r.srv.listeners()
	if err != nil {
		return 0, fmt.Errorf("handing over listeners: %w", err)
	}
	defer closeInherited(files)
	if adm := r.adm.Load(); adm != nil {
		f, err := adm.File()
		if err != nil {
			return 0, fmt.Errorf("handing over the admin socket: %w", err)
		}
		files = append(files, restart.File{Name: adminFile, File: f})
	}
	p, err := r.up.Spawn(ctx, files)
	if err != nil {
		return 0, err
	}
	return p.Pid, nil
}
