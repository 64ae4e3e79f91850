package engine_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/pinion-net/pinion/engine"
)

// lineOffloader answers each "N\n" line after sleeping a random time on the
// offload pool with "N\n".
type lineOffloader struct {
	engine.BaseHandler
}

func (lineOffloader) OnData(c *engine.Conn) {
	for {
		b := c.Peek(-1)
		i := indexByte(b, '\n')
		if i < 0 {
			return
		}
		line := string(b[:i+1])
		c.Discard(i + 1)
		d := time.Duration(rand.IntN(300)) * time.Microsecond
		if err := c.Offload(func(ctx context.Context, w io.Writer) error {
			time.Sleep(d) // the blocking work
			_, err := io.WriteString(w, line)
			return err
		}); err != nil {
			_ = c.CloseWithError(err)
			return
		}
	}
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// TestOffloadOrder pipelines 1,000 requests with random task durations on
// one connection, over a pool of 8 workers, and checks the replies come
// back in request order.
func TestOffloadOrder(t *testing.T) {
	e, addr := startEngine(t, lineOffloader{}, engine.Config{Loops: 1, OffloadWorkers: 8})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	const n = 1000
	go func() {
		w := bufio.NewWriter(c)
		for i := range n {
			fmt.Fprintf(w, "%d\n", i)
		}
		_ = w.Flush()
	}()
	r := bufio.NewScanner(c)
	for i := range n {
		if !r.Scan() {
			t.Fatalf("reply %d: %v", i, r.Err())
		}
		if got := r.Text(); got != strconv.Itoa(i) {
			t.Fatalf("reply %d = %q, want %q", i, got, strconv.Itoa(i))
		}
	}
	st := e.Stats().Offload
	if st.Completed < n {
		t.Errorf("pool completed %d tasks, want >= %d", st.Completed, n)
	}
	t.Logf("offload: %+v", st)
}
