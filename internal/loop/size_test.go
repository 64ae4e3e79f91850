package loop

import (
	"testing"
	"unsafe"
)

// TestConnSize pins the size of a connection's struct, the part of its
// memory every idle connection pays (issue 12: memory per idle
// connection); a field added to Conn must be worth its bytes, or go in
// connExt.
func TestConnSize(t *testing.T) {
	const want = 112 // a size class of the allocator
	if got := unsafe.Sizeof(Conn{}); got > want {
		t.Errorf("unsafe.Sizeof(Conn{}) = %d bytes, want at most %d", got, want)
	}
	t.Logf("Conn %d bytes, connExt %d bytes", unsafe.Sizeof(Conn{}), unsafe.Sizeof(connExt{}))
}
