package loop

import (
	"fmt"
	"net"
	"testing"
	"time"
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

// TestMaxFreeIOs checks that a loop keeps at most Config.MaxFreeIOs
// connection I/O states once the connections that held them go idle: 8
// connections each hold one (input they leave unconsumed), then consume
// it; the loop keeps min(8, MaxFreeIOs) of the 8 for reuse.
func TestMaxFreeIOs(t *testing.T) {
	forEachIO(t, func(t *testing.T, mode IOMode) {
		for _, max := range []int{2, 0} { // 0: the default, 1024
			t.Run(fmt.Sprintf("max=%d", max), func(t *testing.T) {
				const conns = 8
				held := make(chan struct{}, conns)
				h := &fnHandler{data: func(c *Conn) {
					if b := c.Peek(-1); b[len(b)-1] == '.' {
						c.Discard(-1) // the end: give the input, and the I/O state, back
						return
					}
					held <- struct{}{} // keep the input: it needs an I/O state
				}}
				l := runLoop(t, Config{IO: mode, Handler: h, MaxFreeIOs: max})
				peers := make([]net.Conn, conns)
				for i := range peers {
					peers[i] = adoptPair(t, l)
					if _, err := peers[i].Write([]byte("held")); err != nil {
						t.Fatal(err)
					}
					recv(t, held, "the input kept")
				}
				for _, p := range peers {
					if _, err := p.Write([]byte(" then consumed.")); err != nil {
						t.Fatal(err)
					}
				}
				want := min(conns, l.cfg.MaxFreeIOs)
				deadline := time.Now().Add(10 * time.Second)
				for {
					ch := make(chan [2]int, 1)
					if err := l.Post(func() {
						busy := 0
						for c := range l.conns.owned(l) {
							if c.io != nil {
								busy++
							}
						}
						ch <- [2]int{len(l.ios), busy}
					}); err != nil {
						t.Fatalf("Post: %v", err)
					}
					got := recv(t, ch, "the free I/O states")
					if got[1] == 0 {
						if got[0] != want {
							t.Fatalf("%d free I/O states kept after %d connections gave theirs back, want %d (MaxFreeIOs %d)",
								got[0], conns, want, l.cfg.MaxFreeIOs)
						}
						return
					}
					if time.Now().After(deadline) {
						t.Fatalf("%d connections still hold an I/O state after 10s", got[1])
					}
					time.Sleep(time.Millisecond) // polling the loop until every input is consumed
				}
			})
		}
	})
}
