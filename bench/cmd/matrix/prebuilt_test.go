package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPrebuilt: -bin takes a directory of the three binaries and names
// the one that is missing or cannot be run.
func TestPrebuilt(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, mode os.FileMode) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
	}
	write("pinion", 0o755)
	write("gnetserve", 0o755)
	if _, err := prebuilt(dir); err == nil || !strings.Contains(err.Error(), "cserve") {
		t.Fatalf("without cserve: err = %v, want one naming cserve", err)
	}
	write("cserve", 0o644)
	if _, err := prebuilt(dir); err == nil || !strings.Contains(err.Error(), "not an executable") {
		t.Fatalf("cserve not executable: err = %v", err)
	}
	if err := os.Chmod(filepath.Join(dir, "cserve"), 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := prebuilt(dir)
	if err != nil {
		t.Fatalf("all three present: %v", err)
	}
	if b.pinion != filepath.Join(dir, "pinion") || b.gnet != filepath.Join(dir, "gnetserve") || b.c != filepath.Join(dir, "cserve") {
		t.Fatalf("binaries = %+v", b)
	}
}
