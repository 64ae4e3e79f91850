package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/pinion-net/pinion/bench/internal/cref"
)

// A server is one of the programs measured.
type server struct {
	name   string   // as in -servers
	title  string   // in the report
	protos []string // protocols it speaks
	note   string   // what it is, in the report
}

// servers are the programs measured, in the order of the report's tables.
var servers = []server{
	{"loop", "pinion -model loop", []string{"echo", "http", "resp"},
		"pinion's event loops on epoll (`pinion serve -model loop -io epoll`)"},
	{"pinion-uring", "pinion -model loop -io uring", []string{"echo", "http", "resp"},
		"the same loops on the io_uring backend (`pinion serve -model loop -io uring`, docs/adr/0010-io-uring-backend.md)"},
	{"goroutine", "pinion -model goroutine (net)", []string{"echo", "http", "resp"},
		"the same protocol code on the `net` package, a goroutine per connection (`pinion serve -model goroutine`): the baseline"},
	{"gnet", "gnet v2.10.0", []string{"echo", "http"},
		"the peer engine, `bench/cmd/gnetserve`, multicore and reuseport on; its HTTP uses pinion's codec, so only the engine differs"},
	{"c", "C epoll reference", []string{"echo", "http"},
		"`bench/c/cserve.c`, a plain C epoll server with one thread per loop and an SO_REUSEPORT listener each: the floor a Go engine is measured against (echo and HTTP only)"},
}

func serverByName(name string) (server, bool) {
	i := slices.IndexFunc(servers, func(s server) bool { return s.name == name })
	if i < 0 {
		return server{}, false
	}
	return servers[i], true
}

func serverNames() []string {
	var out []string
	for _, s := range servers {
		out = append(out, s.name)
	}
	return out
}

func (s server) speaks(proto string) bool { return slices.Contains(s.protos, proto) }

// A workload is what the load generator sends.
type workload struct {
	name     string // as in -workloads
	title    string
	proto    string
	size     int    // echo request bytes; RESP value bytes
	pipeline int    // requests in flight per connection
	op       string // RESP: get or set
	goal     bool   // one of the points the report's CPU goals are held to
}

var allWorkloads = []workload{
	{name: "echo64-p1", title: "echo 64 B, pipeline 1", proto: "echo", size: 64, pipeline: 1, goal: true},
	{name: "echo64-p16", title: "echo 64 B, pipeline 16", proto: "echo", size: 64, pipeline: 16, goal: true},
	{name: "echo4k-p1", title: "echo 4 KiB, pipeline 1", proto: "echo", size: 4096, pipeline: 1},
	{name: "http-p1", title: "HTTP GET /plaintext, pipeline 1", proto: "http", pipeline: 1, goal: true},
	{name: "http-p16", title: "HTTP GET /plaintext, pipeline 16", proto: "http", pipeline: 16, goal: true},
	{name: "resp-get-p16", title: "RESP GET 64 B, pipeline 16", proto: "resp", size: 64, pipeline: 16, op: "get"},
	{name: "resp-set-p16", title: "RESP SET 64 B, pipeline 16", proto: "resp", size: 64, pipeline: 16, op: "set"},
}

func workloadByName(name string) (workload, bool) {
	i := slices.IndexFunc(allWorkloads, func(w workload) bool { return w.name == name })
	if i < 0 {
		return workload{}, false
	}
	return allWorkloads[i], true
}

func workloadNames(ws []workload) []string {
	var out []string
	for _, w := range ws {
		out = append(out, w.name)
	}
	return out
}

// loadArgs are the arguments of "pinion load" for w against addr with
// conns connections.
func (w workload) loadArgs(addr string, conns int) []string {
	args := []string{"load", "-addr", addr, "-proto", w.proto, "-conns", strconv.Itoa(conns),
		"-pipeline", strconv.Itoa(w.pipeline)}
	switch w.proto {
	case "echo":
		args = append(args, "-size", strconv.Itoa(w.size))
	case "http":
		args = append(args, "-path", "/plaintext")
	case "resp":
		args = append(args, "-op", w.op, "-size", strconv.Itoa(w.size))
	}
	return args
}

// A variant is how the server and the client share the machine.
type variant struct {
	name       string
	loops      int    // event loops, threads or GOMAXPROCS of the server
	pinned     bool   // server and client on CPUs of their own (taskset)
	serverCPU  string // CPU list of the server; "": not pinned
	clientCPUs string // CPU list of the load generator; "": not pinned
}

func (v variant) describe() string {
	if v.pinned {
		return fmt.Sprintf("server on CPU %s with %d loop, load generator on CPU %s", v.serverCPU, v.loops, v.clientCPUs)
	}
	return fmt.Sprintf("server with %d loops and load generator, neither pinned", v.loops)
}

// binaries are the built programs.
type binaries struct {
	pinion string
	gnet   string
	c      string
}

// build builds pinion, the gnet peer and the C reference into dir.
func build(root, dir string) (binaries, error) {
	var b binaries
	var err error
	if b.pinion, err = goBuild(root, filepath.Join(dir, "pinion"), "./cmd/pinion"); err != nil {
		return b, err
	}
	bench := filepath.Join(root, "bench")
	if b.gnet, err = goBuild(bench, filepath.Join(dir, "gnetserve"), "./cmd/gnetserve"); err != nil {
		return b, err
	}
	if b.c, err = cref.Build(bench, dir); err != nil {
		return b, err
	}
	return b, nil
}

// prebuilt returns the binaries in dir, built elsewhere (-bin), after
// checking that each one is there and executable.
func prebuilt(dir string) (binaries, error) {
	b := binaries{
		pinion: filepath.Join(dir, "pinion"),
		gnet:   filepath.Join(dir, "gnetserve"),
		c:      filepath.Join(dir, "cserve"),
	}
	for _, p := range []string{b.pinion, b.gnet, b.c} {
		fi, err := os.Stat(p)
		if err != nil {
			return b, fmt.Errorf("-bin: %w", err)
		}
		if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
			return b, fmt.Errorf("-bin: %s is not an executable file", p)
		}
	}
	return b, nil
}

// goBuild builds the main package pkg of the module in dir into out,
// statically (CGO_ENABLED=0).
func goBuild(dir, out, pkg string) (string, error) {
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s in %s: %w\n%s", pkg, dir, err, b)
	}
	return out, nil
}

// serverArgv is the command line of server s speaking proto on addr with
// v's loops. Every server is told the same: no connection limit below the
// open-file limit, no idle timeout, no pinning of its own (taskset pins).
func (b binaries) serverArgv(s, proto, addr string, v variant) []string {
	loops := strconv.Itoa(v.loops)
	switch s {
	case "loop", "goroutine":
		return []string{b.pinion, "serve", "-addr", addr, "-proto", proto, "-model", s, "-loops", loops,
			"-pin=false", "-max-conns", "20000", "-idle-timeout", "0", "-io", "epoll"}
	case "pinion-uring":
		return []string{b.pinion, "serve", "-addr", addr, "-proto", proto, "-model", "loop", "-loops", loops,
			"-pin=false", "-max-conns", "20000", "-idle-timeout", "0", "-io", "uring"}
	case "gnet":
		return []string{b.gnet, "-addr", addr, "-proto", proto, "-loops", loops, "-max-conns", "20000"}
	case "c":
		return []string{b.c, "-addr", addr, "-proto", proto, "-threads", loops, "-max-conns", "20000"}
	}
	panic("unknown server " + s)
}

// freeAddr returns a loopback address with a port nothing listens on now.
// Servers that open one SO_REUSEPORT listener per loop need the port given.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}
