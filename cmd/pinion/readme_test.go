package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// readmeExampleAddr is the address the README's embedding example listens
// on; the test swaps it for a free port.
const readmeExampleAddr = `"127.0.0.1:9000"`

// readmeGoBlock returns the first ```go block after the line heading in
// markdown, without its fences.
func readmeGoBlock(markdown, heading string) (string, error) {
	_, after, ok := strings.Cut(markdown, "\n"+heading+"\n")
	if !ok {
		return "", fmt.Errorf("no line %q", heading)
	}
	_, block, ok := strings.Cut(after, "\n```go\n")
	if !ok {
		return "", fmt.Errorf("no ```go block after %q", heading)
	}
	block, _, ok = strings.Cut(block, "\n```\n")
	if !ok {
		return "", fmt.Errorf("the ```go block after %q does not end", heading)
	}
	return block + "\n", nil
}

// TestEmbeddingExample builds the Go block under "## Embedding" of
// README.md, as written there, in a module of its own that takes this
// repository as github.com/pinion-net/pinion; runs it on a free port;
// checks that it echoes; and that SIGINT makes it exit with status 0. So
// the README's example cannot drift from the API.
func TestEmbeddingExample(t *testing.T) {
	gobin := goTool(t)
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	src, err := readmeGoBlock(string(readme), "## Embedding")
	if err != nil {
		t.Fatalf("README.md: %v", err)
	}
	if n := strings.Count(src, readmeExampleAddr); n != 1 {
		t.Fatalf("README.md's example names %s %d times, want once (the test swaps it for a free port)", readmeExampleAddr, n)
	}
	addr := freeAddr(t)
	src = strings.Replace(src, readmeExampleAddr, `"`+addr+`"`, 1)

	dir := t.TempDir()
	gomod := "module readmeexample\n\ngo 1.26\n\nrequire github.com/pinion-net/pinion v0.0.0\n\n" +
		"replace github.com/pinion-net/pinion => " + root + "\n"
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"go.mod": []byte(gomod), "go.sum": sum, "main.go": []byte(src)} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Offline: the module cache already holds what the repository needs.
	env := append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=mod", "GOWORK=off")
	bin := filepath.Join(dir, "example")
	for _, args := range [][]string{{"mod", "tidy"}, {"build", "-o", bin, "."}} {
		cmd := exec.Command(gobin, args...)
		cmd.Dir, cmd.Env = dir, env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s of README.md's example: %v\n%s\n--- main.go:\n%s", strings.Join(args, " "), err, out, src)
		}
	}

	p := startProc(t, bin)

	var c net.Conn
	waitUntil(t, 20*time.Second, "the example listening on "+addr, func() bool {
		c, err = net.DialTimeout("tcp", addr, time.Second)
		return err == nil
	})
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if err := echoRoundTripOn(c, []byte("ping, and the rest of the line\n")); err != nil {
		t.Fatal(err)
	}

	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	p.exitsCleanly(t, 20*time.Second)
}

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
