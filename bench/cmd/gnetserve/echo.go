package main

import "github.com/panjf2000/gnet/v2"

// echoServer is -proto echo: every byte read is written back, in order.
type echoServer struct {
	*server
}

// OnTraffic writes back all the connection's readable bytes. It runs on
// the loop that owns c.
//
// Next(-1) returns the loop's read buffer itself when the connection has
// no leftover input, which is always the case here since every call takes
// everything; the slice is valid only during the call. Write sends it at
// once with write(2) and copies into the connection's outbound buffer only
// what the socket does not take (gnet keeps that buffer unbounded), so
// nothing is allocated per read.
func (s *echoServer) OnTraffic(c gnet.Conn) gnet.Action {
	buf, err := c.Next(-1)
	if err != nil || len(buf) == 0 {
		return gnet.None
	}
	if _, err := c.Write(buf); err != nil {
		return gnet.Close // gnet has closed c already; Close on a closed conn is a no-op
	}
	return gnet.None
}
