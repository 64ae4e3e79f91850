package loop

import (
	"slices"
	"sync"
	"testing"
)

// TestConnTableOwnership checks the sharing rules of the fd table: a loop
// finds only its own connections, a loop clearing a slot that another loop
// has taken over (the fd number was reused) leaves the newer entry, and
// owned yields each loop its own connections in fd order.
func TestConnTableOwnership(t *testing.T) {
	tab := NewConnTable()
	a, b := &Loop{conns: tab}, &Loop{conns: tab}
	ca := &Conn{loop: a, fd: 5, gen: 1}
	cb := &Conn{loop: b, fd: 7, gen: 1}
	far := &Conn{loop: a, fd: 3*connBlockLen + 1, gen: 2} // a block of its own, past an absent one
	for _, c := range []*Conn{ca, cb, far} {
		tab.set(c)
	}
	for _, tc := range []struct {
		l    *Loop
		fd   int
		want *Conn
	}{
		{a, 5, ca}, {b, 5, nil}, {b, 7, cb}, {a, 7, nil},
		{a, int(far.fd), far}, {a, connBlockLen + 1, nil}, {a, 10 * connBlockLen, nil}, {a, -1, nil},
	} {
		if got := tc.l.conn(tc.fd); got != tc.want {
			t.Errorf("loop %p conn(%d) = %p, want %p", tc.l, tc.fd, got, tc.want)
		}
	}

	// Loop b reuses fd 5 before loop a has cleared it: a's clear must
	// leave b's connection.
	cb5 := &Conn{loop: b, fd: 5, gen: 9}
	tab.set(cb5)
	tab.clear(ca)
	if got := b.conn(5); got != cb5 {
		t.Fatalf("after a stale clear, b.conn(5) = %p, want b's newer connection %p", got, cb5)
	}
	if got := a.conn(5); got != nil {
		t.Fatalf("a.conn(5) = %p, want nil: the slot is b's", got)
	}

	if got, want := slices.Collect(tab.owned(a)), []*Conn{far}; !slices.Equal(got, want) {
		t.Errorf("owned(a) = %p, want %p", got, want)
	}
	if got, want := slices.Collect(tab.owned(b)), []*Conn{cb5, cb}; !slices.Equal(got, want) {
		t.Errorf("owned(b) = %p, want %p", got, want)
	}
	tab.clear(cb5)
	tab.clear(cb5) // twice: harmless
	if got := b.conn(5); got != nil {
		t.Errorf("b.conn(5) after its clear = %p, want nil", got)
	}
	if got := NewConnTable().get(0); got != nil {
		t.Errorf("empty table get(0) = %p, want nil", got)
	}
}

// TestConnTableConcurrentLoops has several loops register and clear
// connections at once on fds of the same blocks, which are made as they
// go: no entry is lost and, under -race, no access races.
func TestConnTableConcurrentLoops(t *testing.T) {
	const loops, perLoop = 4, 3 * connBlockLen
	tab := NewConnTable()
	ls := make([]*Loop, loops)
	for i := range ls {
		ls[i] = &Loop{conns: tab}
	}
	var wg sync.WaitGroup
	for i, l := range ls {
		wg.Go(func() {
			for j := range perLoop {
				fd := j*loops + i // interleaved: every block has every loop's fds
				c := &Conn{loop: l, fd: int32(fd), gen: 1}
				tab.set(c)
				if got := l.conn(fd); got != c {
					t.Errorf("loop %d: conn(%d) = %p right after set, want %p", i, fd, got, c)
					return
				}
				if j%2 == 1 {
					tab.clear(c)
				}
			}
		})
	}
	wg.Wait()
	for i, l := range ls {
		n := 0
		for c := range tab.owned(l) {
			if c.loop != l || int(c.fd)%loops != i || int(c.fd)/loops%2 != 0 {
				t.Fatalf("owned(loop %d) yields fd %d of another loop or a cleared slot", i, c.fd)
			}
			n++
		}
		if n != perLoop/2 {
			t.Errorf("loop %d owns %d connections, want %d", i, n, perLoop/2)
		}
	}
}
