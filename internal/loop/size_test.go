package loop

import (
	"testing"
	"unsafe"
)

// TestConnSize pins the size of a connection's struct, the part of its
// memory every idle connection pays (issue 12: memory per idle
// connection); a field added to Conn must be worth its bytes, or go in
// connExt. 64 bytes is a size class of the allocator: one byte more costs
// 16 (the next class is 80). What an idle connection holds besides is
// pinned too: its deadline entry (with an idle timeout) and its slot in the
// fd table; its connIO is lent only while bytes pass.
func TestConnSize(t *testing.T) {
	if got, want := unsafe.Sizeof(Conn{}), uintptr(64); got != want {
		t.Errorf("unsafe.Sizeof(Conn{}) = %d bytes, want %d", got, want)
	}
	if got, want := unsafe.Sizeof(connEntry{}), uintptr(16); got != want {
		t.Errorf("unsafe.Sizeof(connEntry{}) = %d bytes, want %d", got, want)
	}
	if got, want := unsafe.Sizeof(connBlock{})/connBlockLen, uintptr(8); got != want {
		t.Errorf("fd table: %d bytes per slot, want %d", got, want)
	}
	t.Logf("Conn %d bytes, connIO %d bytes, connExt %d bytes", unsafe.Sizeof(Conn{}), unsafe.Sizeof(connIO{}), unsafe.Sizeof(connExt{}))
}
