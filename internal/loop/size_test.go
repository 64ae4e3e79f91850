package loop

import (
	"testing"
	"unsafe"
)

// TestConnSize pins the size of a connection's struct, the part of its
// memory every idle connection pays (issue 12: memory per idle
// connection); a field added to Conn must be worth its bytes, or go in
// connExt. 80 bytes is a size class of the allocator: one byte more costs
// 16 (the next class is 96). A connection's deadline entry is pinned too:
// an idle connection with an idle timeout holds one.
func TestConnSize(t *testing.T) {
	if got, want := unsafe.Sizeof(Conn{}), uintptr(80); got != want {
		t.Errorf("unsafe.Sizeof(Conn{}) = %d bytes, want %d", got, want)
	}
	if got, want := unsafe.Sizeof(connEntry{}), uintptr(16); got != want {
		t.Errorf("unsafe.Sizeof(connEntry{}) = %d bytes, want %d", got, want)
	}
	if got, want := unsafe.Sizeof(connBlock{})/connBlockLen, uintptr(8); got != want {
		t.Errorf("fd table: %d bytes per slot, want %d", got, want)
	}
	t.Logf("Conn %d bytes, connExt %d bytes", unsafe.Sizeof(Conn{}), unsafe.Sizeof(connExt{}))
}
