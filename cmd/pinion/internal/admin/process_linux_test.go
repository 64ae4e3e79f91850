package admin

import (
	"runtime"
	"testing"
)

// TestResidentBytesFresh: the kept-open statm reads the current figure.
func TestResidentBytesFresh(t *testing.T) {
	p := openProcStat()
	defer p.close()
	before := p.residentBytes()
	if before <= 0 {
		t.Fatalf("resident bytes %d, want > 0", before)
	}
	mem := make([]byte, 64<<20)
	for i := 0; i < len(mem); i += 4096 {
		mem[i] = 1
	}
	after := p.residentBytes()
	runtime.KeepAlive(mem)
	if after < before+32<<20 {
		t.Errorf("resident bytes %d after touching 64 MiB, want at least %d", after, before+32<<20)
	}
}
