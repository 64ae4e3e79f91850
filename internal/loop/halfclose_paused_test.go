package loop

import (
	"io"
	"testing"
)

// TestPausedBothShutKeepsInput: a connection that is not being read, whose
// handler shut its write side (CloseWrite) and whose peer then sent its
// last bytes and FIN, is hung up in both directions, and epoll says so on
// every poll. The bytes before the FIN are still delivered once reading
// resumes, then the connection closes with io.EOF: a proxy that paused
// the client while the upstream was slow passes on everything. (It was
// closed with a hang-up error, dropping them.)
func TestPausedBothShutKeepsInput(t *testing.T) {
	opened := make(chan *Conn, 1)
	got := make(chan string, 4)
	reasons := make(chan error, 1)
	h := &halfHandler{peerClosed: make(chan bool, 1)}
	h.open = func(c *Conn) { c.PauseReading(); opened <- c }
	h.data = func(c *Conn) { got <- string(c.Next(-1)) }
	h.close = func(c *Conn, err error) { reasons <- err }
	l := runLoop(t, Config{Handler: h})
	peer := adoptPair(t, l)
	hdl := recv(t, opened, "OnOpen").Handle()
	if _, err := peer.Write([]byte("last words")); err != nil {
		t.Fatal(err)
	}
	if err := peer.(interface{ CloseWrite() error }).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if err := hdl.Post(func(c *Conn, err error) {
		if err == nil {
			err = c.CloseWrite()
		}
		if err != nil {
			t.Errorf("CloseWrite: %v", err)
		}
	}); err != nil {
		t.Fatal(err)
	}
	// Our FIN reached the peer: from the loop's next poll on, the
	// connection is hung up both ways while still paused.
	if b, err := io.ReadAll(peer); err != nil || len(b) != 0 {
		t.Fatalf("peer read %q, %v; want EOF", b, err)
	}
	if err := hdl.Post(func(c *Conn, err error) {
		if err == nil {
			c.ResumeReading()
		}
	}); err != nil {
		t.Fatal(err)
	}
	if s := recv(t, got, "OnData"); s != "last words" {
		t.Fatalf("OnData got %q, want \"last words\"", s)
	}
	if err := recv(t, reasons, "OnClose"); err != io.EOF {
		t.Fatalf("OnClose reason %v; want io.EOF (both sides shut, input read)", err)
	}
}
