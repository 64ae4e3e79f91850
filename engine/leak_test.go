//go:build linux

package engine_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pinion-net/pinion/engine"
)

// TestNoFDLeak resets 1,000 streaming connections at once, then runs
// 20,000 connect/close cycles, half of them ending in a reset: afterwards
// the process holds exactly the file descriptors it held before, the
// server still serves, and shutting it down gives back its own.
func TestNoFDLeak(t *testing.T) {
	const (
		streams = 1000
		cycles  = 20000
		workers = 8 // one source address each: 127.0.0.2 to 127.0.0.9
		msgSize = 16 << 10
	)

	// Warm up: the runtime's poller descriptors exist from here on.
	if err := leakWarmUp(); err != nil {
		t.Fatalf("warm-up: %v", err)
	}
	before := openFDs(t)
	e, addr, _ := startEcho(t, engine.Config{})
	withEngine := openFDs(t)
	describe := func() string {
		s := e.Stats()
		return fmt.Sprintf("conns %d, accepted %d, closed %d, open fds %d (%d with the idle engine)",
			s.Conns, s.Accepted, s.Closed, openFDs(t), withEngine)
	}

	// 1,000 connections streaming 16 KiB messages back and forth.
	t0 := time.Now()
	conns := make([]*net.TCPConn, streams)
	var (
		wg        sync.WaitGroup
		started   sync.WaitGroup
		failures  atomic.Int64
		firstErr  atomic.Value
		resetting atomic.Bool // from here on, stream errors are expected
	)
	fail := func(err error) {
		failures.Add(1)
		firstErr.CompareAndSwap(nil, err)
	}
	var dialWG sync.WaitGroup
	for w := range 16 {
		dialWG.Add(1)
		go func() {
			defer dialWG.Done()
			for i := w; i < streams; i += 16 {
				c, err := net.DialTimeout("tcp", addr, 10*time.Second)
				if err != nil {
					fail(fmt.Errorf("dial %d: %w", i, err))
					continue
				}
				conns[i] = c.(*net.TCPConn)
			}
		}()
	}
	dialWG.Wait()
	if n := failures.Load(); n > 0 {
		t.Fatalf("%d of %d dials failed; first: %v", n, streams, firstErr.Load())
	}
	pat := newPattern(msgSize)
	for i, c := range conns {
		wg.Add(1)
		started.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, msgSize)
			first := true
			for off := int64(i) * 7919; ; off += msgSize {
				_, err := c.Write(pat.at(off, msgSize))
				if err == nil {
					_, err = io.ReadFull(c, buf)
				}
				if err != nil {
					if !resetting.Load() {
						fail(fmt.Errorf("conn %d before the reset: %w", i, err))
					}
					break
				}
				if d := pat.firstDiff(off, buf); d >= 0 {
					fail(fmt.Errorf("conn %d: echo differs at byte %d", i, off+int64(d)))
				}
				if first {
					first = false
					started.Done()
				}
			}
			if first {
				started.Done()
			}
		}()
	}
	started.Wait()
	if n := failures.Load(); n > 0 {
		t.Fatalf("%d failures while streaming; first: %v", n, firstErr.Load())
	}

	// Reset them all at once, mid-stream.
	resetting.Store(true)
	go1 := make(chan struct{})
	var closers sync.WaitGroup
	for w := range workers {
		closers.Add(1)
		go func() {
			defer closers.Done()
			<-go1
			for i := w; i < streams; i += workers {
				_ = conns[i].SetLinger(0)
				_ = conns[i].Close()
			}
		}()
	}
	close(go1)
	closers.Wait()
	wg.Wait()
	waitFor(t, 20*time.Second, "the server to drop the reset connections",
		func() bool { return e.Stats().Conns == 0 }, describe)

	t1 := time.Now()

	// 20,000 connect/close cycles from eight source addresses, so that
	// neither the ephemeral ports of one address nor TIME_WAIT run out;
	// every other cycle of each worker closes with a reset, the others
	// with FIN (and leave a TIME_WAIT behind). IP_BIND_ADDRESS_NO_PORT
	// lets connect pick the port for the whole 4-tuple, reusing TIME_WAIT
	// ports of earlier runs where the kernel allows it, instead of bind
	// picking one unused by any socket of the address.
	var done atomic.Int64
	var cyc sync.WaitGroup
	for w := range workers {
		cyc.Add(1)
		go func() {
			defer cyc.Done()
			d := net.Dialer{
				Timeout:   10 * time.Second,
				LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+w))},
				Control: func(_, _ string, rc syscall.RawConn) error {
					var serr error
					err := rc.Control(func(fd uintptr) {
						serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
					})
					return errors.Join(err, serr)
				},
			}
			for i := w; i < cycles; i += workers {
				c, err := d.Dial("tcp", addr)
				if err != nil {
					fail(fmt.Errorf("cycle %d: %w", i, err))
					return
				}
				if i/workers%2 == 1 {
					_ = c.(*net.TCPConn).SetLinger(0)
				}
				if err := c.Close(); err != nil {
					fail(fmt.Errorf("cycle %d: close: %w", i, err))
					return
				}
				done.Add(1)
			}
		}()
	}
	cyc.Wait()
	if n := failures.Load(); n > 0 {
		t.Fatalf("%d cycles failed (%d done); first: %v", n, done.Load(), firstErr.Load())
	}
	waitFor(t, 20*time.Second, "the server to drop every cycled connection",
		func() bool { return e.Stats().Conns == 0 }, describe)

	t2 := time.Now()
	s := e.Stats()
	t.Logf("fds: %d before the engine, %d with it idle; accepted %d, closed %d; %v for the resets, %v for the cycles",
		before, withEngine, s.Accepted, s.Closed, t1.Sub(t0).Round(time.Millisecond), t2.Sub(t1).Round(time.Millisecond))
	// A connection reset before the server accepted it may never reach
	// accept (the kernel drops it from the queue), so only the cycles
	// ending in FIN must all have been accepted.
	if lo, hi := uint64(streams+cycles/2), uint64(streams+cycles); s.Accepted < lo || s.Accepted > hi {
		t.Errorf("accepted: got %d, want %d to %d", s.Accepted, lo, hi)
	}
	if s.Closed != s.Accepted {
		t.Errorf("closed: got %d, want %d (every accepted connection)", s.Closed, s.Accepted)
	}
	waitFor(t, 10*time.Second, "open fds back to the idle engine's count",
		func() bool { return openFDs(t) == withEngine }, describe)

	if err := echoRoundTrip(addr, "still serving"); err != nil {
		t.Fatalf("echo after the storm: %v", err)
	}
	if err := e.Shutdown(t.Context()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	waitFor(t, 10*time.Second, "open fds back to the count before the engine", func() bool { return openFDs(t) == before },
		func() string { return fmt.Sprintf("open fds %d, want %d", openFDs(t), before) })
}

// leakWarmUp makes one loopback connection with package net, so that the
// runtime's network poller has opened its own descriptors.
func leakWarmUp() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		return err
	}
	defer c.Close()
	s, err := ln.Accept()
	if err != nil {
		return err
	}
	return s.Close()
}
