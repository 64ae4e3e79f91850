package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// surfaceViolations returns one message per place where the exported API of
// the package in the parsed files names a type of an internal package, or
// re-exports a type under a second name (an alias): `go doc` shows neither
// the fields nor the methods of such a type, and a user would have to
// import a package they cannot (ADR 0006). Declaring a type on an internal
// one (type Conn loop.Conn) is allowed: its methods are then its own.
func surfaceViolations(fset *token.FileSet, files []*ast.File) []string {
	var out []string
	for _, f := range files {
		internal := map[string]string{} // local name → path, internal imports only
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if !strings.Contains(p, "/internal/") {
				continue
			}
			name := path.Base(p)
			if imp.Name != nil {
				name = imp.Name.Name
			}
			internal[name] = p
		}
		check := func(what string, e ast.Node) {
			if e == nil {
				return
			}
			ast.Inspect(e, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if id, ok := sel.X.(*ast.Ident); ok {
					if p, ok := internal[id.Name]; ok {
						out = append(out, fset.Position(sel.Pos()).String()+": "+what+" names "+p+"."+sel.Sel.Name)
					}
				}
				return false
			})
		}
		checkFields := func(what string, fl *ast.FieldList) {
			if fl == nil {
				return
			}
			for _, fd := range fl.List {
				exported := len(fd.Names) == 0 // embedded fields are promoted
				for _, n := range fd.Names {
					exported = exported || n.IsExported()
				}
				if exported {
					check(what, fd.Type)
				}
			}
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if !d.Name.IsExported() || (d.Recv != nil && !exportedRecv(d.Recv)) {
					continue
				}
				checkFields(d.Name.Name, d.Type.Params)
				checkFields(d.Name.Name, d.Type.Results)
			case *ast.GenDecl:
				for _, sp := range d.Specs {
					switch sp := sp.(type) {
					case *ast.TypeSpec:
						if !sp.Name.IsExported() {
							continue
						}
						if sp.Assign.IsValid() {
							out = append(out, fset.Position(sp.Pos()).String()+": "+sp.Name.Name+" is an alias; declare a type of its own")
							continue
						}
						switch t := sp.Type.(type) {
						case *ast.StructType:
							checkFields(sp.Name.Name, t.Fields)
						case *ast.InterfaceType:
							for _, m := range t.Methods.List {
								check(sp.Name.Name, m.Type)
							}
						case *ast.FuncType:
							checkFields(sp.Name.Name, t.Params)
							checkFields(sp.Name.Name, t.Results)
						}
					case *ast.ValueSpec:
						for _, n := range sp.Names {
							if n.IsExported() {
								check(n.Name, sp.Type)
							}
						}
					}
				}
			}
		}
	}
	return out
}

func exportedRecv(fl *ast.FieldList) bool {
	t := fl.List[0].Type
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	id, ok := t.(*ast.Ident)
	return ok && id.IsExported()
}

// parseDir parses the non-test Go files of dir, whatever their build tags.
func parseDir(t *testing.T, fset *token.FileSet, dir string) []*ast.File {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, n := range names {
		if strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, n, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatalf("parse %s: %v", n, err)
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		t.Fatalf("no Go files in %s", dir)
	}
	return files
}

// TestPublicSurface checks that the public packages document every name
// their API uses: no alias, no internal type in an exported signature,
// field or variable.
func TestPublicSurface(t *testing.T) {
	root := moduleRoot(t, goCmd(t))
	for _, p := range public {
		fset := token.NewFileSet()
		for _, v := range surfaceViolations(fset, parseDir(t, fset, filepath.Join(root, p))) {
			t.Errorf("%s", v)
		}
	}
}

// TestSurfaceViolations checks the checker on a made-up package.
func TestSurfaceViolations(t *testing.T) {
	src := `package engine

import (
	"time"

	"example.com/m/internal/loop"
	lp "example.com/m/internal/loop"
)

type Conn loop.Conn           // allowed: a type of its own
type Handle = loop.Handle     // an alias
type hidden = loop.Handle     // unexported: not the API
type Stats struct {
	Loops []loop.Stats        // an internal type in an exported field
	d     loop.Stats          // unexported field
	At    time.Time
}
type Handler interface{ OnTick(l *lp.Loop) }
type Fn func(*loop.Conn) error
var ErrClosed = loop.ErrClosed // allowed: the value, not a type
var Hook func(loop.Conn)
func Start() (*loop.Loop, error) { return nil, nil }
func (c *Conn) Loop() *Conn { return c }
func (c *Conn) raw() *loop.Conn { return nil }
func (c *conn) Raw() *loop.Conn { return nil }
type conn struct{}
`
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	got := surfaceViolations(fset, parseDir(t, fset, dir))
	want := []string{
		"x.go:11:6: Handle is an alias; declare a type of its own",
		"x.go:14:10: Stats names example.com/m/internal/loop.Stats",
		"x.go:18:35: Handler names example.com/m/internal/loop.Loop",
		"x.go:19:15: Fn names example.com/m/internal/loop.Conn",
		"x.go:21:15: Hook names example.com/m/internal/loop.Conn",
		"x.go:22:16: Start names example.com/m/internal/loop.Loop",
	}
	if len(got) != len(want) {
		t.Fatalf("violations:\ngot  %q\nwant %q", got, want)
	}
	for i := range got {
		if !strings.HasSuffix(got[i], "/"+want[i]) {
			t.Errorf("violation %d: got %q, want suffix %q", i, got[i], want[i])
		}
	}
}
