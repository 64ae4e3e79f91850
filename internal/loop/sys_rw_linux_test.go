package loop

import (
	"net"
	"testing"
)

// socketPair returns the file descriptors of both ends of a loopback TCP
// connection, closed when the benchmark ends.
func socketPair(tb testing.TB) (client, server int) {
	tb.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	s, err := ln.Accept()
	if err != nil {
		tb.Fatal(err)
	}
	fds := make([]int, 2)
	for i, conn := range []net.Conn{c, s} {
		f, err := conn.(*net.TCPConn).File() // a blocking duplicate: fine for a ping-pong
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { f.Close(); conn.Close() })
		fds[i] = int(f.Fd())
	}
	return fds[0], fds[1]
}

// BenchmarkSocketRoundTrip times one 64-byte write and the read of it on
// loopback TCP, through the calls the loop uses (sendto/recvfrom, and
// sendmsg for a write of several segments) and through write/read and
// writev, which it used before. Most of each is the kernel's TCP path; what
// differs is the VFS layer write, read and writev pass through first. On
// the 2-core benchmark machine the difference is within the noise: medians
// of sendto/recvfrom against write/read were −1.3%, +1.0% and −0.5% in
// three runs, sendmsg against writev −3.1% and +0.2% in two.
func BenchmarkSocketRoundTrip(b *testing.B) {
	for _, tc := range []struct {
		name string
		do   func(fd int, p []byte) (int, error)
		get  func(fd int, p []byte) (int, error)
	}{
		{name: "sendto-recvfrom", do: sysWrite, get: sysRead},
		{name: "write-read", do: rawWrite, get: rawRead},
		{name: "sendmsg-2-segments", do: twoSegments(new(sysState).writev), get: sysRead},
		{name: "writev-2-segments", do: twoSegments(new(sysState).vfsWritev), get: sysRead},
	} {
		b.Run(tc.name, func(b *testing.B) {
			a, z := socketPair(b)
			buf := make([]byte, 64)
			b.ReportAllocs()
			for b.Loop() {
				if n, err := tc.do(a, buf); n != len(buf) || err != nil {
					b.Fatalf("write: %d, %v", n, err)
				}
				if n, err := tc.get(z, buf); n != len(buf) || err != nil {
					b.Fatalf("read: %d, %v", n, err)
				}
			}
		})
	}
}

// twoSegments adapts a vectored write to a write of p in two halves.
func twoSegments(writev func(fd int, bufs [][]byte) (int, error)) func(int, []byte) (int, error) {
	var bufs [2][]byte
	return func(fd int, p []byte) (int, error) {
		bufs[0], bufs[1] = p[:len(p)/2], p[len(p)/2:]
		return writev(fd, bufs[:])
	}
}

// vfsWritev is sysState.writev through writev(2), as it was before sendmsg.
func (s *sysState) vfsWritev(fd int, bufs [][]byte) (int, error) {
	iov := s.iovec(bufs)
	n, err := rawWritev(fd, iov)
	clear(iov)
	return n, err
}
