package engine_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/pinion-net/pinion/engine"
)

// tcpProxy relays each accepted connection to upstream, both ways. The
// upstream connection is dialed on the accepted one's loop (Loop.Dial), so
// the two are one loop's and each reaches the other through its Context.
type tcpProxy struct {
	engine.BaseHandler
	upstream string
}

func (p *tcpProxy) OnOpen(c *engine.Conn) {
	// What c owes was read from the other side, which OnData paces: c
	// itself keeps being read, so the two directions stay independent.
	c.SetOwedPausesRead(false)
	if c.Dialed() {
		return // the upstream side: its Context is the client since Dial
	}
	up, err := c.Loop().Dial(p.upstream, c) // bytes written before it connects wait
	if err != nil {
		_ = c.Abort(err)
		return
	}
	c.SetContext(up)
}

// OnData passes the input on; past the peer's high watermark it stops
// reading until OnDrained says the peer caught up.
func (p *tcpProxy) OnData(c *engine.Conn) {
	peer := c.Context().(*engine.Conn)
	_, _ = peer.Write(c.Next(-1))
	if peer.Saturated() {
		c.PauseReading()
	}
}

func (p *tcpProxy) OnDrained(c *engine.Conn) { c.Context().(*engine.Conn).ResumeReading() }

// OnPeerClose passes a half-close on: the other direction keeps flowing.
func (p *tcpProxy) OnPeerClose(c *engine.Conn) { _ = c.Context().(*engine.Conn).CloseWrite() }

// OnClose ends the other side too: after what it owes when this side ended
// cleanly, at once (a reset) when it failed.
func (p *tcpProxy) OnClose(c *engine.Conn, err error) {
	peer, _ := c.Context().(*engine.Conn)
	switch {
	case peer == nil || !peer.Open():
	case err == nil || errors.Is(err, io.EOF):
		_ = peer.Close()
	default:
		_ = peer.Abort(err)
	}
}

// A TCP proxy on the public API: relaying both ways, backpressure through
// the watermarks, half-close passed on.
func Example_proxy() {
	upstream, stop := startLineEcho() // any TCP server; here an echo
	defer stop()
	e, err := engine.Start(&tcpProxy{upstream: upstream}, engine.Config{Addrs: []string{"127.0.0.1:0"}, Loops: 1})
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
	fmt.Fprint(c, "ping through the proxy")
	_ = c.(*net.TCPConn).CloseWrite() // the upstream sees EOF, answers, and ends too
	got, err := io.ReadAll(c)
	fmt.Printf("%q, %v\n", got, err)
	// Output:
	// "ping through the proxy", <nil>
}

// startLineEcho serves an echo with the net package that shuts its write
// side once the client has, and returns its address and a stop function.
func startLineEcho() (string, func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
				_ = c.(*net.TCPConn).CloseWrite()
			}()
		}
	}()
	return ln.Addr().String(), func() { _ = ln.Close() }
}
