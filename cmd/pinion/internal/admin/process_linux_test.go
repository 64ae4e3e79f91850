package admin

import (
	"syscall"
	"testing"
)

// TestResidentBytesFresh: the kept-open statm reads the current figure.
// The 64 MiB touched are a fresh mapping, not Go heap, so that memory an
// earlier run (-count) freed and the runtime kept cannot absorb them.
func TestResidentBytesFresh(t *testing.T) {
	p := openProcStat()
	defer p.close()
	before := p.residentBytes()
	if before <= 0 {
		t.Fatalf("resident bytes %d, want > 0", before)
	}
	mem, err := syscall.Mmap(-1, 0, 64<<20, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatalf("mmap: %v", err)
	}
	defer func() { _ = syscall.Munmap(mem) }()
	for i := 0; i < len(mem); i += 4096 {
		mem[i] = 1
	}
	if after := p.residentBytes(); after < before+32<<20 {
		t.Errorf("resident bytes %d after touching 64 MiB, want at least %d", after, before+32<<20)
	}
}
