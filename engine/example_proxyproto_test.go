package engine_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"time"

	"github.com/pinion-net/pinion/engine"
)

// whoHandler greets every connection with the client address it reports
// and the authority (TLS server name) its proxy saw.
type whoHandler struct{ engine.BaseHandler }

func (whoHandler) OnOpen(c *engine.Conn) {
	authority := "-"
	if h, ok := engine.ProxyHeader(c); ok && h.Authority() != nil {
		authority = string(h.Authority())
	}
	_, _ = fmt.Fprintf(c, "hello %s via %s\n", c.RemoteAddr(), authority)
}

func ExampleProxyHeader() {
	e, err := engine.Start(whoHandler{}, engine.Config{
		Addrs: []string{"127.0.0.1:0"},
		Loops: 1,
		ProxyProtocol: engine.ProxyProtocol{
			Mode:    engine.ProxyRequire,
			Trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, // the load balancers
		},
	})
	if err != nil {
		fmt.Println("start:", err)
		return
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = e.Shutdown(ctx)
	}()
	// What a load balancer sends before the client's bytes.
	c, err := net.Dial("tcp", e.Addrs()[0].String())
	if err != nil {
		fmt.Println("dial:", err)
		return
	}
	defer c.Close()
	_, _ = io.WriteString(c, "PROXY TCP4 203.0.113.9 192.0.2.10 51000 443\r\n")
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		fmt.Println("read:", err)
		return
	}
	fmt.Print(line)
	// Output:
	// hello 203.0.113.9:51000 via -
}
