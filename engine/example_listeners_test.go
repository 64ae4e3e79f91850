//go:build unix

package engine_test

import (
	"context"
	"fmt"
	"io"
	"net"

	"github.com/pinion-net/pinion/engine"
)

// ExampleConfig_listeners serves on a listening socket opened elsewhere
// (here by the net package; in production by systemd, see
// SystemdListeners, or by the process that hands over in a hot restart).
// The engine serves on its own duplicate, so the file is closed at once.
func ExampleConfig_listeners() {
	nl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	f, err := nl.(*net.TCPListener).File()
	_ = nl.Close()
	if err != nil {
		fmt.Println(err)
		return
	}
	e, err := engine.Start(exampleEcho{}, engine.Config{
		Listeners: []engine.Listener{{File: f}},
		Loops:     1,
	})
	_ = f.Close()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer e.Shutdown(context.Background())

	c, err := net.Dial("tcp", e.Addrs()[0].String())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	_, _ = io.WriteString(c, "adopted")
	buf := make([]byte, len("adopted"))
	if _, err := io.ReadFull(c, buf); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s\n", buf)
	// Output: adopted
}
