package main

import (
	"errors"
	"io"
	"net"
	"os"
)

// relay is -proto proxy on the goroutine model: it connects to the
// upstream, then copies both ways, each direction in a goroutine of its
// own. A side's end of file is passed on as a half-close (CloseWrite), so
// the other side may go on sending; an error on either side (a reset, a
// failed write) closes both at once, so no half-dead pair is left. It
// returns when both directions are done; the caller closes c.
func (s *goroutineServer) relay(c net.Conn) {
	up, err := net.DialTimeout("tcp", s.cfg.upstream, s.cfg.connectTimeout)
	if err != nil {
		s.log.Warn("proxy: cannot connect to the upstream; closing the client", "upstream", s.cfg.upstream, "client", c.RemoteAddr(), "err", err)
		return
	}
	defer up.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.copyHalf(up, c, true)
	}()
	s.copyHalf(c, up, false)
	<-done
}

// copyHalf copies src to dst until src ends, then half-closes dst. A
// graceful shutdown interrupts the client's reads (fromClient): that ends
// this direction as if the client had sent FIN, and the upstream's answer
// still flows back. Any other error aborts both connections.
func (s *goroutineServer) copyHalf(dst, src net.Conn, fromClient bool) {
	_, err := io.Copy(dst, src)
	if err != nil && fromClient && s.stopping.Load() && errors.Is(err, os.ErrDeadlineExceeded) {
		err = nil
	}
	if err != nil {
		// Abort, not close: a linger of 0 sends RST, as the failed side did.
		abortConn(dst)
		abortConn(src)
		return
	}
	if cw, ok := dst.(interface{ CloseWrite() error }); ok {
		if cw.CloseWrite() == nil {
			return
		}
	}
	_ = dst.Close()
}

// abortConn closes c with a reset where it is TCP.
func abortConn(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}
