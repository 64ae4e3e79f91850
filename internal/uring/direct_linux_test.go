//go:build linux && (amd64 || arm64)

package uring

import (
	"io"
	"net"
	"testing"
)

// TestDirectDescriptors accepts into the direct table, echoes through it and
// closes through it: the process never sees an fd for the connection.
func TestDirectDescriptors(t *testing.T) {
	r := newRing(t, Config{DirectDescriptors: 16})
	lfd, addr := listen(t)
	before := openFDs(t)
	if err := r.AcceptMultishotDirect(lfd, NewToken(lfd, 1)); err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fd := -1
	reapUntil(t, r, func(c CQE) bool {
		if c.Token.Op() != OpAccept || c.Res < 0 || c.Res >= 16 {
			t.Fatalf("accept completion %+v (%v), want a slot below 16", c, c.Err())
		}
		fd = Direct(int(c.Res))
		return true
	})
	// One fd more: the client's own socket, none for the accepted one.
	if n := openFDs(t); n != before+1 {
		t.Errorf("open fds %d → %d, want only the client's socket added", before, n)
	}
	c.Write([]byte("direct"))
	got, _, _ := recvAll(t, r, fd, 6, false)
	if string(got) != "direct" {
		t.Fatalf("received %q", got)
	}
	sendAll(t, r, fd, [][]byte{[]byte("dir"), []byte("ect")})
	b := make([]byte, 6)
	if _, err := io.ReadFull(c, b); err != nil || string(b) != "direct" {
		t.Fatalf("client read %q, %v", b, err)
	}
	if err := r.CancelAndCloseFD(fd, NewToken(fd, 3)); err != nil {
		t.Fatal(err)
	}
	var recvEnded, closed bool
	reapUntil(t, r, func(c CQE) bool {
		switch c.Token.Op() {
		case OpRecv:
			recvEnded = !c.More()
		case OpClose:
			if c.Res != 0 {
				t.Fatalf("close of slot: %v", c.Err())
			}
			closed = true
		case OpCancel:
			if c.Res < 0 {
				t.Fatalf("cancel of slot: %v", c.Err())
			}
		}
		return recvEnded && closed
	})
	if n, err := c.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Errorf("peer read after the slot's close: %d, %v; want end of file", n, err)
	}
	// The slot is free again: a second connection may take it.
	c2, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	reapUntil(t, r, func(c CQE) bool {
		if c.Token.Op() == OpAccept && c.Res < 0 {
			t.Fatalf("second accept: %v", c.Err())
		}
		return c.Token.Op() == OpAccept
	})
}
