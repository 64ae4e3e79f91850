package engine_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/pinion-net/pinion/engine"
)

// exampleBig answers every input byte with a 64 KiB reply.
type exampleBig struct{ engine.BaseHandler }

// OnData serves one request (one byte) at a time and stops while the
// connection is Saturated; the loop calls it again with the rest once the
// replies have drained.
func (exampleBig) OnData(c *engine.Conn) {
	reply := make([]byte, 64<<10)
	for c.Buffered() > 0 && !c.Saturated() {
		c.Discard(1)
		_, _ = c.Write(reply)
	}
}

// A client pipelines 100 requests whose replies add up to 6.25 MiB, more
// than WriteMax (4 MiB) allows a connection to owe. Because the handler
// checks Saturated, the connection never owes more than WriteHigh plus
// one reply, and every reply arrives.
func ExampleConn_Saturated() {
	e, err := engine.Start(exampleBig{}, engine.Config{Addrs: []string{"127.0.0.1:0"}, Loops: 1})
	if err != nil {
		fmt.Println("start:", err)
		return
	}
	c, err := net.Dial("tcp", e.Addrs()[0].String())
	if err != nil {
		fmt.Println("dial:", err)
		return
	}
	if _, err := c.Write(make([]byte, 100)); err != nil {
		fmt.Println("write:", err)
		return
	}
	n, err := io.CopyN(io.Discard, c, 100*64<<10)
	fmt.Println("reply bytes:", n, err)
	c.Close()
	fmt.Println("owed at most WriteHigh + one reply:", e.Stats().OutboundPeak <= 256<<10+64<<10)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	fmt.Println("shutdown:", e.Shutdown(ctx))
	// Output:
	// reply bytes: 6553600 <nil>
	// owed at most WriteHigh + one reply: true
	// shutdown: <nil>
}
