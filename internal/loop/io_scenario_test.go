package loop

import (
	"bytes"
	stdio "io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/pinion-net/pinion/internal/sock"
)

// echoLoop runs a loop of mode io that echoes every byte, listening on a
// loopback port, and returns the loop and the address.
func echoLoop(t *testing.T, io IOMode, cfg Config) (*Loop, string) {
	t.Helper()
	if cfg.Handler == nil {
		cfg.Handler = &fnHandler{data: func(c *Conn) {
			_, _ = c.Write(c.Next(-1))
		}}
	}
	cfg.IO = io
	l, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a, err := sock.ParseAddr("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	bound, err := l.listen(a, false, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	go l.Run()
	if err := recv(t, l.Started(), "start"); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		_ = l.Abort()
		waitDone(t, l)
	})
	return l, bound.String()
}

// TestEchoIntegrity: several connections each stream a pattern through the
// echo loop while reading it back; every byte comes back intact and in
// order, on both backends, also with a buffer ring so small that receives
// keep running out of buffers (ENOBUFS, re-armed) and watermarks so low
// that reading pauses and resumes all the time.
func TestEchoIntegrity(t *testing.T) {
	forEachIO(t, func(t *testing.T, io IOMode) {
		cfg := Config{WriteLow: 4 << 10, WriteHigh: 16 << 10, Ring: RingConfig{Buffers: 8, BufferSize: 512}}
		_, addr := echoLoop(t, io, cfg)
		const conns, size = 8, 2 << 20
		pat := make([]byte, size)
		for i := range pat {
			pat[i] = byte(i*7 + i>>8)
		}
		var wg sync.WaitGroup
		errs := make(chan error, conns)
		for range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := net.DialTimeout("tcp", addr, 5*time.Second)
				if err != nil {
					errs <- err
					return
				}
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(30 * time.Second))
				go func() {
					_, _ = c.Write(pat)
					_ = c.(*net.TCPConn).CloseWrite()
				}()
				got, err := stdio.ReadAll(c)
				if err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(got, pat) {
					errs <- stdio.ErrShortBuffer
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
}
