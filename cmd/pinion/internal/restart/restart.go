package restart

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// The environment variables of the protocol (see the package doc).
const (
	EnvFDs     = "PINION_FDS"
	EnvReadyFD = "PINION_READY_FD"
)

// firstFD is the descriptor of the first inherited file: os/exec puts
// ExtraFiles at 3, 4, ... after stdin, stdout and stderr.
const firstFD = 3

var (
	// ErrInProgress is returned by Spawn while another restart runs.
	ErrInProgress = errors.New("restart: a restart is already in progress")
	// ErrNotReady is returned by Spawn when the child exited or closed
	// its ready pipe without saying it was ready.
	ErrNotReady = errors.New("restart: new process did not become ready")
	// ErrTimeout is returned by Spawn when the child was not ready in time.
	ErrTimeout = errors.New("restart: new process not ready in time")
)

// File is a listening socket with the name the child finds it by.
type File struct {
	Name string
	File *os.File
}

// Upgrader starts new copies of the binary. Its zero value is not usable:
// set Path and Args. Spawn may be called from any goroutine; only one
// restart runs at a time.
type Upgrader struct {
	// Path is the binary to run, usually os.Executable's answer.
	Path string
	// Args are its arguments, without the program name.
	Args []string
	// Env is the child's environment; nil means this process's. The
	// protocol's variables are replaced, not appended twice.
	Env []string
	// ReadyTimeout bounds the wait for the child's Ready (default 10 s).
	ReadyTimeout time.Duration
	// Stdout and Stderr of the child; nil means this process's.
	Stdout, Stderr io.Writer

	busy atomic.Bool
}

// Spawn starts the child with files as its inherited descriptors and waits
// until it is ready, it fails, ctx ends or ReadyTimeout passes. On success
// the child runs on and its process is returned; the caller owns files
// still (close them once the parent stops serving). On failure the child is
// killed and waited for.
func (u *Upgrader) Spawn(ctx context.Context, files []File) (*os.Process, error) {
	if !u.busy.CompareAndSwap(false, true) {
		return nil, ErrInProgress
	}
	defer u.busy.Store(false)

	names := make([]string, len(files))
	extra := make([]*os.File, 0, len(files)+1)
	for i, f := range files {
		if f.Name == "" || strings.ContainsAny(f.Name, ",=") {
			return nil, fmt.Errorf("restart: bad descriptor name %q (empty, or with ',' or '=')", f.Name)
		}
		names[i] = f.Name
		extra = append(extra, f.File)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("restart: ready pipe: %w", err)
	}
	defer pr.Close()
	readyFD := firstFD + len(extra)
	extra = append(extra, pw)

	cmd := exec.Command(u.Path, u.Args...)
	cmd.ExtraFiles = extra
	cmd.Stdout, cmd.Stderr = orStd(u.Stdout, os.Stdout), orStd(u.Stderr, os.Stderr)
	cmd.Env = append(withoutProtocol(u.Env),
		EnvFDs+"="+strings.Join(names, ","),
		EnvReadyFD+"="+strconv.Itoa(readyFD))
	if err := cmd.Start(); err != nil {
		pw.Close()
		return nil, fmt.Errorf("restart: start %s: %w", u.Path, err)
	}
	// Only the child holds the write end now: its exit closes it.
	pw.Close()

	timeout := u.ReadyTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	if err := waitReady(ctx, pr, timeout); err != nil {
		_ = cmd.Process.Kill()
		werr := cmd.Wait()
		if werr != nil {
			return nil, fmt.Errorf("%w (%v)", err, werr)
		}
		return nil, err
	}
	// The child runs on after this process exits; reap it if it ends first.
	go func() { _ = cmd.Wait() }()
	return cmd.Process, nil
}

// waitReady reads the ready byte from r within timeout.
func waitReady(ctx context.Context, r *os.File, timeout time.Duration) error {
	got := make(chan error, 1)
	go func() {
		var b [1]byte
		n, err := r.Read(b[:])
		if n == 1 {
			got <- nil
			return
		}
		got <- fmt.Errorf("%w: %v", ErrNotReady, err)
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case err := <-got:
		return err
	case <-t.C:
		err := fmt.Errorf("%w (%v)", ErrTimeout, timeout)
		_ = r.SetReadDeadline(time.Now()) // ends the reader
		return err
	case <-ctx.Done():
		_ = r.SetReadDeadline(time.Now())
		return fmt.Errorf("restart: %w", ctx.Err())
	}
}

func orStd(w io.Writer, std *os.File) io.Writer {
	if w == nil {
		return std
	}
	return w
}

// withoutProtocol returns env (or this process's environment) less the
// protocol's variables.
func withoutProtocol(env []string) []string {
	if env == nil {
		env = os.Environ()
	}
	out := make([]string, 0, len(env)+2)
	for _, kv := range env {
		if strings.HasPrefix(kv, EnvFDs+"=") || strings.HasPrefix(kv, EnvReadyFD+"=") {
			continue
		}
		out = append(out, kv)
	}
	return out
}
