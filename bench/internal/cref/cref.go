// Package cref builds the C reference server (bench/c/cserve.c), the plain
// epoll server the Go servers are measured against: one thread per loop,
// each with its own SO_REUSEPORT listener and epoll set, speaking the
// benchmark's echo and HTTP protocols with no allocation per request.
//
// The built program takes -addr HOST:PORT, -threads N, -proto echo|http and
// -max-conns N, prints one line once it listens,
//
//	cserve: listening on 127.0.0.1:PORT (PROTO, c, N threads)
//
// and exits 0 on SIGINT or SIGTERM.
package cref

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ErrNoCompiler is the error of Build when the C compiler ($CC, or cc)
// is not installed.
var ErrNoCompiler = errors.New("cref: no C compiler")

// Source returns the path of the C source in benchRoot, the directory of
// the bench module.
func Source(benchRoot string) string {
	return filepath.Join(benchRoot, "c", "cserve.c")
}

// Build compiles Source(benchRoot) into outDir/cserve with the system C
// compiler, $CC (split at spaces, as cgo does) or else cc, and returns the
// program's path. Its error carries the compiler's output, and wraps
// ErrNoCompiler when there is no compiler to run.
func Build(benchRoot, outDir string) (string, error) {
	cc := strings.Fields(os.Getenv("CC"))
	if len(cc) == 0 {
		cc = []string{"cc"}
	}
	if _, err := exec.LookPath(cc[0]); err != nil {
		return "", fmt.Errorf("%w: %v", ErrNoCompiler, err)
	}
	out := filepath.Join(outDir, "cserve")
	args := append(cc[1:len(cc):len(cc)], "-O2", "-Wall", "-Wextra", "-std=gnu11", "-pthread", "-o", out, Source(benchRoot))
	if b, err := exec.Command(cc[0], args...).CombinedOutput(); err != nil {
		return "", fmt.Errorf("cref: %s %s: %w\n%s", cc[0], strings.Join(args, " "), err, b)
	}
	return out, nil
}
