//go:build linux && (amd64 || arm64)

package uring_test

import (
	"fmt"
	"net"
	"runtime"
	"time"

	"github.com/pinion-net/pinion/internal/uring"
)

// Example receives one message on a socket through a multishot receive and a
// provided buffer, then sends it back.
func Example() {
	runtime.LockOSThread() // the ring's single issuer is this thread
	defer runtime.UnlockOSThread()

	r, err := uring.New(uring.Config{})
	if err != nil {
		fmt.Println("io_uring unavailable, an epoll loop would run:", err)
		return
	}
	defer r.Close()

	client, server, err := tcpPair()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	defer server.Close()
	fd := fdOf(server)

	r.RecvMultishot(fd, uring.NewToken(fd, 1))
	client.Write([]byte("ping"))

	var cqes [8]uring.CQE
	var inFlight uring.CQE // the receive whose buffer the send reads from
	for done := false; !done; {
		r.SubmitAndWait(time.Second)
		for _, c := range cqes[:r.Reap(cqes[:])] {
			switch c.Token.Op() {
			case uring.OpRecv:
				msg := r.Bytes(c)
				fmt.Printf("received %q on fd-generation %d\n", msg, c.Token.Gen())
				// Send from the provided buffer and recycle it when the
				// send completes.
				r.Send(fd, msg, uring.NewToken(fd, 1))
				inFlight = c
			case uring.OpSend:
				fmt.Printf("sent %d bytes\n", c.Res)
				r.Recycle(inFlight)
				done = true
			}
		}
	}
	reply := make([]byte, 4)
	n, _ := client.Read(reply)
	fmt.Printf("client read %q\n", reply[:n])
	// Output:
	// received "ping" on fd-generation 1
	// sent 4 bytes
	// client read "ping"
}

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair() (client, server *net.TCPConn, err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		return nil, nil, err
	}
	s, err := ln.Accept()
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	return c.(*net.TCPConn), s.(*net.TCPConn), nil
}

// fdOf returns the socket of a net connection. The Go runtime keeps it
// registered with its own poller, which is harmless here: the example never
// reads through net for that end.
func fdOf(c *net.TCPConn) int {
	raw, _ := c.SyscallConn()
	fd := -1
	raw.Control(func(s uintptr) { fd = int(s) })
	return fd
}
