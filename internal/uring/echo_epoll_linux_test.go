//go:build linux && (amd64 || arm64)

package uring

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// serveEpoll is the readiness model as pinion's loop runs it: level-triggered
// epoll, read until a short read, write what was read at once.
func (s *echoServer) serveEpoll(lfd int, ready chan<- error) error {
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		ready <- err
		return nil
	}
	defer unix.Close(ep)
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		ready <- err
		return nil
	}
	defer unix.Close(efd)
	for _, fd := range []int{lfd, efd} {
		if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}); err != nil {
			ready <- err
			return nil
		}
	}
	s.stop = func() { unix.Write(efd, []byte{1, 0, 0, 0, 0, 0, 0, 0}) }
	ready <- nil
	conns := make(map[int]bool)
	defer func() {
		for fd := range conns {
			unix.Close(fd)
		}
	}()
	var events [512]unix.EpollEvent
	buf := make([]byte, 64<<10)
	var calls uint64
	for !s.quit.Load() {
		n, err := unix.EpollWait(ep, events[:], -1)
		calls++
		if err != nil && err != unix.EINTR {
			return fmt.Errorf("epoll_wait: %w", err)
		}
		for _, ev := range events[:max(n, 0)] {
			fd := int(ev.Fd)
			switch fd {
			case efd:
				continue
			case lfd:
				for {
					nfd, _, err := unix.Accept4(lfd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
					calls++
					if err != nil {
						break
					}
					unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, nfd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(nfd)})
					conns[nfd] = true
					s.accepted.Add(1)
				}
				continue
			}
			for {
				r, err := unix.Read(fd, buf)
				calls++
				if r > 0 {
					for off := 0; off < r; {
						w, err := unix.Write(fd, buf[off:r])
						calls++
						if err != nil {
							return fmt.Errorf("write: %w (the benchmark never fills a socket buffer)", err)
						}
						off += w
					}
					if r < len(buf) {
						break
					}
					continue
				}
				if err == unix.EAGAIN {
					break
				}
				unix.EpollCtl(ep, unix.EPOLL_CTL_DEL, fd, nil)
				unix.Close(fd)
				delete(conns, fd)
				break
			}
		}
		s.syscalls.Store(calls)
	}
	return nil
}
