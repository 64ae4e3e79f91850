package engine_test

import (
	"testing"
	"time"

	"github.com/pinion-net/pinion/engine"
)

// TestHandlePostZeroAllocs checks that Handle.Post hands the loop the
// caller's function as it is: a round trip through the loop (post, run,
// signal back) allocates nothing in steady state, and the function gets
// the live connection under the engine's name.
func TestHandlePostZeroAllocs(t *testing.T) {
	handles := make(chan engine.Handle, 1)
	e, _ := startEngine(t, &echoHandler{onOpen: func(c *engine.Conn) { handles <- c.Handle() }}, testConfig())
	_ = dial(t, e.Addrs()[0])
	var hd engine.Handle
	select {
	case hd = <-handles:
	case <-time.After(10 * time.Second):
		t.Fatal("OnOpen did not run")
	}
	ran := make(chan bool, 1)
	fn := func(c *engine.Conn, err error) { ran <- err == nil && c.Open() }
	post := func() {
		if err := hd.Post(fn); err != nil {
			t.Fatalf("Post: %v", err)
		}
		if !<-ran {
			t.Fatal("the posted function did not get the open connection")
		}
	}
	for range 100 { // the mailbox's slices reach their size
		post()
	}
	if n := testing.AllocsPerRun(1000, post); n != 0 {
		t.Errorf("allocations per Handle.Post round trip: got %v, want 0", n)
	}
}
