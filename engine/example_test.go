package engine_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/pinion-net/pinion/engine"
)

// exampleEcho sends back every byte it receives.
type exampleEcho struct{ engine.BaseHandler }

// OnData queues a copy of the input and consumes it: the slice from Next
// is valid only until OnData returns, and Write copies it.
func (exampleEcho) OnData(c *engine.Conn) { _, _ = c.Write(c.Next(-1)) }

func Example() {
	e, err := engine.Start(exampleEcho{}, engine.Config{
		Addrs: []string{"127.0.0.1:0"},
		Loops: 1,
	})
	if err != nil {
		fmt.Println("start:", err)
		return
	}
	c, err := net.Dial("tcp", e.Addrs()[0].String())
	if err != nil {
		fmt.Println("dial:", err)
		return
	}
	if _, err := io.WriteString(c, "hello"); err != nil {
		fmt.Println("write:", err)
		return
	}
	buf := make([]byte, len("hello"))
	if _, err := io.ReadFull(c, buf); err != nil {
		fmt.Println("read:", err)
		return
	}
	fmt.Printf("%s\n", buf)
	c.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	fmt.Println("shutdown:", e.Shutdown(ctx))
	// Output:
	// hello
	// shutdown: <nil>
}

// exampleLines hands every complete line it receives to a channel.
type exampleLines struct {
	engine.BaseHandler
	lines chan string
}

func (h exampleLines) OnData(c *engine.Conn) {
	for {
		in := c.Peek(-1)
		i := bytes.IndexByte(in, '\n')
		if i < 0 {
			return // wait for the rest of the line
		}
		h.lines <- string(in[:i]) // copied: in is valid only during OnData
		c.Discard(i + 1)
	}
}

func ExampleEngine_Dial() {
	// A plain net.Listener plays the server: it answers one line.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("listen:", err)
		return
	}
	defer ln.Close()
	served := make(chan string, 1)
	go func() {
		defer close(served)
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		line, err := bufio.NewReader(conn).ReadString('\n')
		if err != nil {
			return
		}
		served <- line
		_, _ = io.WriteString(conn, "pong\n")
	}()

	// An engine without addresses only dials.
	h := exampleLines{lines: make(chan string, 1)}
	e, err := engine.Start(h, engine.Config{Loops: 1})
	if err != nil {
		fmt.Println("start:", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := e.Dial(ctx, ln.Addr().String(), nil)
	if err != nil {
		fmt.Println("dial:", err)
		return
	}
	// The handle is safe from any goroutine; the callback runs on the
	// loop once the bytes are in the kernel.
	sent := make(chan error, 1)
	if err := conn.AsyncWrite([]byte("ping\n"), func(err error) { sent <- err }); err != nil {
		fmt.Println("write:", err)
		return
	}
	fmt.Println("sent:", <-sent)
	fmt.Printf("server got: %q\n", <-served)
	fmt.Printf("engine got: %q\n", <-h.lines)
	fmt.Println("shutdown:", e.Shutdown(ctx))
	// Output:
	// sent: <nil>
	// server got: "ping\n"
	// engine got: "pong"
	// shutdown: <nil>
}

// ExampleEngine_WriteMetrics writes the engine's metrics in the Prometheus
// text format; here only the lines of one family are shown.
func ExampleEngine_WriteMetrics() {
	e, err := engine.Start(engine.BaseHandler{}, engine.Config{Addrs: []string{"127.0.0.1:0"}, Loops: 2, Pin: engine.PinOff})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer e.Shutdown(context.Background())
	var b strings.Builder
	if err := e.WriteMetrics(&b); err != nil {
		fmt.Println(err)
		return
	}
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.Contains(line, "pinion_connections_accepted_total") {
			fmt.Println(line)
		}
	}
	// Output:
	// # HELP pinion_connections_accepted_total Connections accepted from listeners, rejected ones included.
	// # TYPE pinion_connections_accepted_total counter
	// pinion_connections_accepted_total{loop="0"} 0
	// pinion_connections_accepted_total{loop="1"} 0
}
