//go:build linux && (amd64 || arm64)

package uring

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// echoClient drives conns connections from the calling thread, pipeline
// messages of size bytes per connection per round.
type echoClient struct {
	ep    int
	fds   []int
	msg   []byte
	need  map[int]int
	rbuf  []byte
	check bool // compare every byte (tests), not only count them (benchmarks)
	got   map[int][]byte
}

func dialEcho(port, conns, pipeline, size int) (*echoClient, error) {
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	c := &echoClient{ep: ep, msg: make([]byte, pipeline*size), need: make(map[int]int, conns), rbuf: make([]byte, 64<<10), got: make(map[int][]byte)}
	for i := range c.msg {
		c.msg[i] = byte(i*7 + i/size)
	}
	for range conns {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			c.close()
			return nil, err
		}
		c.fds = append(c.fds, fd)
		if err := unix.Connect(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: port}); err != nil {
			c.close()
			return nil, err
		}
		unix.SetNonblock(fd, true)
		unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
		if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}); err != nil {
			c.close()
			return nil, err
		}
	}
	return c, nil
}

// round sends the pipelined messages on every connection and waits for all
// of them to come back.
func (c *echoClient) round() error {
	for _, fd := range c.fds {
		if n, err := unix.Write(fd, c.msg); n != len(c.msg) {
			return fmt.Errorf("client write %d of %d: %v", n, len(c.msg), err)
		}
		c.need[fd] = len(c.msg)
	}
	left := len(c.fds)
	var events [512]unix.EpollEvent
	for left > 0 {
		n, err := unix.EpollWait(c.ep, events[:], int(testDeadline.Milliseconds()))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return errors.New("client: no echo within the deadline")
		}
		for _, ev := range events[:n] {
			fd := int(ev.Fd)
			for {
				r, err := unix.Read(fd, c.rbuf)
				if r <= 0 {
					if err == unix.EAGAIN {
						break
					}
					return fmt.Errorf("client read: %d, %v", r, err)
				}
				if c.check {
					c.got[fd] = append(c.got[fd], c.rbuf[:r]...)
				}
				c.need[fd] -= r
				if c.need[fd] == 0 {
					left--
				}
				if c.need[fd] < 0 {
					return fmt.Errorf("client: %d bytes too many", -c.need[fd])
				}
				if r < len(c.rbuf) {
					break
				}
			}
		}
	}
	return nil
}

func (c *echoClient) close() {
	for _, fd := range c.fds {
		unix.Close(fd)
	}
	unix.Close(c.ep)
}
