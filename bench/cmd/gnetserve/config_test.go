package main

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"runtime"
	"strings"
	"testing"
)

func TestParseFlagsDefaults(t *testing.T) {
	cfg, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatalf("parseFlags(nil): %v", err)
	}
	want := config{
		addr: "127.0.0.1:9000", proto: "echo", loops: runtime.GOMAXPROCS(0),
		pin: false, maxConns: 10000, readBuf: 64 << 10,
	}
	if cfg != want {
		t.Errorf("parseFlags(nil) = %+v, want %+v", cfg, want)
	}
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		args []string
		want config
	}{
		{
			[]string{"-addr", "127.0.0.1:9100", "-proto", "http", "-loops", "3", "-pin", "-max-conns", "-1", "-read-buffer", "4096", "-idle-timeout", "0s"},
			config{addr: "127.0.0.1:9100", proto: "http", loops: 3, pin: true, maxConns: -1, readBuf: 4096},
		},
		{
			[]string{"-addr", "localhost:9101", "-loops", "256"},
			config{addr: "127.0.0.1:9101", proto: "echo", loops: 256, maxConns: 10000, readBuf: 64 << 10},
		},
		{
			[]string{"-addr", "[::1]:9102", "-loops", "1"},
			config{addr: "[::1]:9102", proto: "echo", loops: 1, maxConns: 10000, readBuf: 64 << 10},
		},
	}
	for _, tt := range tests {
		got, err := parseFlags(tt.args, io.Discard)
		if err != nil {
			t.Errorf("parseFlags(%q): %v", tt.args, err)
			continue
		}
		if got != tt.want {
			t.Errorf("parseFlags(%q) = %+v, want %+v", tt.args, got, tt.want)
		}
	}
}

func TestParseFlagsErrors(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string // a part of the error
	}{
		{[]string{"-addr", "127.0.0.1:0"}, "port 0 is not supported"},
		{[]string{"-addr", "127.0.0.1:0", "-loops", "1"}, "port 0 is not supported"},
		{[]string{"-addr", ":0"}, "port 0 is not supported"},
		{[]string{"-addr", "tcp://127.0.0.1:9000"}, "want HOST:PORT"},
		{[]string{"-addr", "127.0.0.1"}, "-addr"},
		{[]string{"-idle-timeout", "2m"}, "-idle-timeout must be 0: gnet has no idle timeout"},
		{[]string{"-idle-timeout", "-1s"}, "-idle-timeout must be 0"},
		{[]string{"-proto", "resp"}, `unknown protocol "resp"`},
		{[]string{"-loops", "0"}, "-loops must be from 1 to 256"},
		{[]string{"-loops", "257"}, "-loops must be from 1 to 256"},
		{[]string{"-max-conns", "0"}, "-max-conns must be positive"},
		{[]string{"-read-buffer", "0"}, "-read-buffer must be positive"},
		{[]string{"-model", "loop"}, "flag provided but not defined"},
		{[]string{"extra"}, "unexpected arguments"},
	}
	for _, tt := range tests {
		_, err := parseFlags(tt.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("parseFlags(%q) error = %v, want one containing %q", tt.args, err, tt.wantErr)
		}
	}
}

func TestRunBadFlags(t *testing.T) {
	tests := []struct {
		args       []string
		wantStatus int
		wantStderr string
	}{
		{[]string{"-addr", "127.0.0.1:0"}, 2, "gnetserve: -addr \"127.0.0.1:0\": port 0 is not supported"},
		{[]string{"-idle-timeout", "1s"}, 2, "gnetserve: -idle-timeout must be 0"},
		{[]string{"-h"}, 0, "Usage of gnetserve"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		if got := run(tt.args, &stdout, &stderr); got != tt.wantStatus {
			t.Errorf("run(%q) = %d, want %d", tt.args, got, tt.wantStatus)
		}
		if !strings.Contains(stderr.String(), tt.wantStderr) {
			t.Errorf("run(%q) stderr = %q, want it to contain %q", tt.args, stderr.String(), tt.wantStderr)
		}
		if stdout.Len() != 0 {
			t.Errorf("run(%q) stdout = %q, want nothing", tt.args, stdout.String())
		}
	}
}

func TestParseFlagsHelp(t *testing.T) {
	var stderr bytes.Buffer
	_, err := parseFlags([]string{"-h"}, &stderr)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("parseFlags(-h) error = %v, want flag.ErrHelp", err)
	}
	for _, want := range []string{"-addr", "-proto", "-loops", "-pin", "gnet does not pin threads to CPUs", "-max-conns", "-read-buffer", "-idle-timeout"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("usage lacks %q:\n%s", want, stderr.String())
		}
	}
}
