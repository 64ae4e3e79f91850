package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/pinion-net/pinion"

// goosList are the systems whose file sets are checked: Linux, every kqueue
// system, and one that has neither (the _other.go stubs).
var goosList = []string{"linux", "darwin", "dragonfly", "freebsd", "netbsd", "openbsd", "windows"}

// allowedRequires are the only modules the library's go.mod may require.
var allowedRequires = []string{"golang.org/x/sys", "github.com/valyala/bytebufferpool"}

// pkg is the part of `go list -json` output the rules need.
type pkg struct {
	ImportPath   string
	Imports      []string
	XTestImports []string // of the package's external tests and examples
	Error        *struct{ Err string }
}

// rule says which packages of ours a package may import. Paths are relative
// to the module ("internal/loop", "internal/sock").
type rule struct {
	says  string // the rule in words, for failure messages
	allow func(rel string) bool
}

func only(paths ...string) rule {
	return rule{
		says:  "may import only " + strings.Join(paths, ", "),
		allow: func(rel string) bool { return slices.Contains(paths, rel) },
	}
}

// public are the packages an embedder imports: everything a program that
// embeds pinion names is in them (ADR 0006).
var public = []string{"engine", "codec"}

var (
	importsNothing = rule{says: "must import nothing of ours", allow: func(string) bool { return false }}
	// asUser is the rule of commands, and of the examples and external
	// tests of the public packages: they use pinion as a user would.
	asUser = rule{says: "may import only the public packages (engine, codec) and its own command's packages", allow: func(rel string) bool {
		return slices.Contains(public, rel) || strings.HasPrefix(rel, "cmd/")
	}}
)

// testSupport are packages for test files only: a package's build may not
// import them. They import nothing of ours (the rule of internal/*), so the
// examples and external tests of a public package may use one and still use
// pinion as an embedder would.
var testSupport = []string{"internal/tcptest"}

// ruleFor returns the rule of the package at rel (docs/architecture.md,
// "Packages and imports"), or false when the package is not placed yet.
func ruleFor(rel string) (rule, bool) {
	switch {
	case rel == "internal/offload":
		// ADR 0003: the shared histogram is the one internal-to-internal edge.
		return only("internal/metrics"), true
	case rel == "internal/loop":
		// The loop is the only package below engine that knows fds,
		// sockets and threads (ADR 0006).
		// internal/uring: the io_uring backend (ADR 0010).
		return only("poller", "internal/buffer", "internal/sock", "internal/affinity", "internal/metrics", "internal/uring"), true
	case rel == "poller" || rel == "codec" || strings.HasPrefix(rel, "internal/"):
		return importsNothing, true
	case rel == "engine":
		// The only importer of internal/loop; the histogram's struct is
		// named in its Stats (ADR 0006).
		return only("internal/loop", "codec", "internal/offload", "internal/metrics"), true
	case strings.HasPrefix(rel, "cmd/"):
		return asUser, true
	}
	return rule{}, false
}

// ours returns p relative to the module, and whether p is in the module.
func ours(p string) (string, bool) {
	if p == module {
		return ".", true
	}
	rel, ok := strings.CutPrefix(p, module+"/")
	return rel, ok
}

// violations returns one message per import that breaks the rules, and one
// per package that has no rule.
func violations(pkgs []pkg) []string {
	var out []string
	for _, p := range pkgs {
		rel, ok := ours(p.ImportPath)
		if !ok {
			continue
		}
		r, ok := ruleFor(rel)
		if !ok {
			out = append(out, rel+": no import rule; place the package in docs/architecture.md and in internal/archtest")
			continue
		}
		for _, imp := range p.Imports {
			irel, ok := ours(imp)
			switch {
			case ok && slices.Contains(testSupport, irel):
				out = append(out, rel+" imports "+imp+": it is for test files only")
			case ok && !r.allow(irel):
				out = append(out, rel+" imports "+imp+": "+rel+" "+r.says)
			}
		}
		if !slices.Contains(public, rel) {
			continue
		}
		for _, imp := range p.XTestImports {
			irel, ok := ours(imp)
			if ok && !asUser.allow(irel) && !slices.Contains(testSupport, irel) {
				out = append(out, rel+"'s examples and external tests import "+imp+": they "+asUser.says)
			}
		}
	}
	return out
}

// goCmd returns the go command, skipping the test when there is none.
func goCmd(t *testing.T) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("go command not on PATH: %v", err)
	}
	return gobin
}

// moduleRoot returns the directory of the module's go.mod.
func moduleRoot(t *testing.T, gobin string) string {
	t.Helper()
	out, err := exec.Command(gobin, "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		t.Fatalf("go env GOMOD = %q; want the module's go.mod", gomod)
	}
	return filepath.Dir(gomod)
}

// list runs `go list -json` over the module for goos.
func list(t *testing.T, gobin, root, goos string) []pkg {
	t.Helper()
	cmd := exec.Command(gobin, "list", "-e", "-json=ImportPath,Imports,XTestImports,Error", "./...")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS="+goos, "GOFLAGS=-mod=mod")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("GOOS=%s go list: %v\n%s", goos, err, stderr.Bytes())
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		err := dec.Decode(&p)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("GOOS=%s go list: decoding its output: %v", goos, err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) == 0 {
		t.Fatalf("GOOS=%s go list ./... found no packages in %s", goos, root)
	}
	return pkgs
}

// TestImportDirection checks the import direction of docs/architecture.md
// ("Packages and imports") for every
// package of the module, on every system in goosList.
func TestImportDirection(t *testing.T) {
	gobin := goCmd(t)
	root := moduleRoot(t, gobin)
	for _, goos := range goosList {
		t.Run(goos, func(t *testing.T) {
			t.Parallel()
			pkgs := list(t, gobin, root, goos)
			for _, p := range pkgs {
				if p.Error != nil {
					t.Errorf("GOOS=%s: package %s does not load: %s", goos, p.ImportPath, p.Error.Err)
				}
			}
			for _, v := range violations(pkgs) {
				t.Errorf("GOOS=%s: %s", goos, v)
			}
		})
	}
}

// TestRequires checks that the library's go.mod requires only the modules
// in allowedRequires; competitors and tools belong in bench/go.mod.
func TestRequires(t *testing.T) {
	gobin := goCmd(t)
	root := moduleRoot(t, gobin)
	cmd := exec.Command(gobin, "mod", "edit", "-json")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go mod edit -json: %v", err)
	}
	var mod struct {
		Module  struct{ Path string }
		Require []struct{ Path string }
	}
	if err := json.Unmarshal(out, &mod); err != nil {
		t.Fatalf("go mod edit -json: decoding its output: %v", err)
	}
	if mod.Module.Path != module {
		t.Fatalf("go.mod declares module %q; want %q", mod.Module.Path, module)
	}
	for _, r := range mod.Require {
		if !slices.Contains(allowedRequires, r.Path) {
			t.Errorf("go.mod requires %s; the library may require only %s", r.Path, strings.Join(allowedRequires, " and "))
		}
	}
}

// TestViolations checks the checker: each case is a module of made-up
// packages and the messages it must produce.
func TestViolations(t *testing.T) {
	m := func(rel string) string { return module + "/" + rel }
	tests := []struct {
		name string
		pkgs []pkg
		want []string
	}{
		{
			name: "the design's own graph",
			pkgs: []pkg{
				{ImportPath: m("poller"), Imports: []string{"errors", "golang.org/x/sys/unix"}},
				{ImportPath: m("internal/buffer"), Imports: []string{"fmt"}},
				{ImportPath: m("internal/loop"), Imports: []string{m("poller"), m("internal/buffer"), m("internal/sock"), m("internal/affinity"), m("internal/metrics"), "github.com/valyala/bytebufferpool"}},
				{ImportPath: m("internal/offload"), Imports: []string{m("internal/metrics")}},
				{ImportPath: m("engine"), Imports: []string{m("internal/loop"), m("codec"), m("internal/offload"), m("internal/metrics")}, XTestImports: []string{m("engine"), m("codec")}},
				{ImportPath: m("cmd/pinion"), Imports: []string{m("engine"), m("codec"), m("cmd/pinion/internal/proto"), "flag"}},
				{ImportPath: m("cmd/pinion/internal/proto"), Imports: []string{m("engine"), m("codec")}},
			},
		},
		{
			name: "poller imports the loop",
			pkgs: []pkg{{ImportPath: m("poller"), Imports: []string{m("internal/loop")}}},
			want: []string{"poller imports " + m("internal/loop") + ": poller must import nothing of ours"},
		},
		{
			name: "internal package imports another",
			pkgs: []pkg{{ImportPath: m("internal/sock"), Imports: []string{m("internal/buffer")}}},
			want: []string{"internal/sock imports " + m("internal/buffer") + ": internal/sock must import nothing of ours"},
		},
		{
			name: "loop imports engine and offload",
			pkgs: []pkg{{ImportPath: m("internal/loop"), Imports: []string{m("engine"), m("internal/offload"), m("poller")}}},
			want: []string{
				"internal/loop imports " + m("engine") + ": internal/loop may import only poller, internal/buffer, internal/sock, internal/affinity, internal/metrics, internal/uring",
				"internal/loop imports " + m("internal/offload") + ": internal/loop may import only poller, internal/buffer, internal/sock, internal/affinity, internal/metrics, internal/uring",
			},
		},
		{
			name: "offload imports an internal package other than metrics",
			pkgs: []pkg{{ImportPath: m("internal/offload"), Imports: []string{m("internal/metrics"), m("internal/buffer")}}},
			want: []string{"internal/offload imports " + m("internal/buffer") + ": internal/offload may import only internal/metrics"},
		},
		{
			name: "engine handles sockets and threads itself",
			pkgs: []pkg{{ImportPath: m("engine"), Imports: []string{m("internal/loop"), m("internal/sock"), m("internal/affinity"), m("poller")}}},
			want: []string{
				"engine imports " + m("internal/sock") + ": engine may import only internal/loop, codec, internal/offload, internal/metrics",
				"engine imports " + m("internal/affinity") + ": engine may import only internal/loop, codec, internal/offload, internal/metrics",
				"engine imports " + m("poller") + ": engine may import only internal/loop, codec, internal/offload, internal/metrics",
			},
		},
		{
			name: "a command imports the loop",
			pkgs: []pkg{{ImportPath: m("cmd/pinion"), Imports: []string{m("engine"), m("internal/loop")}}},
			want: []string{"cmd/pinion imports " + m("internal/loop") + ": cmd/pinion may import only the public packages (engine, codec) and its own command's packages"},
		},
		{
			name: "a command's own package imports the poller",
			pkgs: []pkg{{ImportPath: m("cmd/pinion/internal/load"), Imports: []string{m("codec"), m("poller")}}},
			want: []string{"cmd/pinion/internal/load imports " + m("poller") + ": cmd/pinion/internal/load may import only the public packages (engine, codec) and its own command's packages"},
		},
		{
			name: "an example of engine imports the loop",
			pkgs: []pkg{{ImportPath: m("engine"), Imports: []string{m("internal/loop")}, XTestImports: []string{m("engine"), m("internal/loop")}}},
			want: []string{"engine's examples and external tests import " + m("internal/loop") + ": they may import only the public packages (engine, codec) and its own command's packages"},
		},
		{
			name: "engine's external tests use test support",
			pkgs: []pkg{
				{ImportPath: m("engine"), Imports: []string{m("internal/loop")}, XTestImports: []string{m("engine"), m("internal/tcptest")}},
				{ImportPath: m("internal/tcptest"), Imports: []string{"net", "testing"}},
			},
		},
		{
			name: "a package's build imports test support",
			pkgs: []pkg{
				{ImportPath: m("engine"), Imports: []string{m("internal/loop"), m("internal/tcptest")}},
				{ImportPath: m("cmd/pinion"), Imports: []string{m("engine"), m("internal/tcptest")}},
			},
			want: []string{
				"engine imports " + m("internal/tcptest") + ": it is for test files only",
				"cmd/pinion imports " + m("internal/tcptest") + ": it is for test files only",
			},
		},
		{
			name: "the loop's own tests may name it",
			pkgs: []pkg{{ImportPath: m("internal/loop"), Imports: []string{m("poller")}, XTestImports: []string{m("internal/loop"), m("poller")}}},
		},
		{
			name: "command imports its own internal packages",
			pkgs: []pkg{
				{ImportPath: m("cmd/pinion"), Imports: []string{m("engine"), m("cmd/pinion/internal/admin")}},
				{ImportPath: m("cmd/pinion/internal/admin"), Imports: []string{m("engine"), m("codec")}},
			},
		},
		{
			name: "package without a rule",
			pkgs: []pkg{{ImportPath: m("util"), Imports: []string{"fmt"}}},
			want: []string{"util: no import rule; place the package in docs/architecture.md and in internal/archtest"},
		},
		{
			name: "packages of other modules are not ours to judge",
			pkgs: []pkg{{ImportPath: "example.com/other", Imports: []string{m("internal/sock")}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := violations(tt.pkgs)
			if !slices.Equal(got, tt.want) {
				t.Errorf("violations:\ngot  %q\nwant %q", got, tt.want)
			}
		})
	}
}
