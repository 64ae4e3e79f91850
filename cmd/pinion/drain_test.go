package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// TestShutdownPipelinedRESP: RESP clients pipeline without pause, 64
// commands per write, while the server shuts down gracefully. On both
// models each client reads whole replies only, in order, and then the
// server's FIN: no reply cut in the middle, no reset.
func TestShutdownPipelinedRESP(t *testing.T) {
	const (
		clients = 8
		batch   = 64
	)
	value := bytes.Repeat([]byte("v"), 4<<10)
	set := fmt.Appendf(nil, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%d\r\n%s\r\n", len(value), value)
	get := []byte("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n")
	wantGet := fmt.Appendf(nil, "$%d\r\n%s\r\n", len(value), value)
	forEachModel(t, func(t *testing.T, model string) {
		srv := newServer(t, model, func(c *serveConfig) { c.proto = "resp" })
		c0, err := net.DialTimeout("tcp", srv.addr(), 5*time.Second)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		if _, err := c0.Write(set); err != nil {
			t.Fatalf("SET: %v", err)
		}
		if line, err := bufio.NewReader(c0).ReadString('\n'); line != "+OK\r\n" || err != nil {
			t.Fatalf("SET: got %q, %v", line, err)
		}
		_ = c0.Close()

		pipeline := bytes.Repeat(get, batch)
		var wg sync.WaitGroup
		replies := make([]int, clients)
		errs := make([]error, clients)
		reading := make(chan struct{}, clients)
		for i := range clients {
			c, err := net.DialTimeout("tcp", srv.addr(), 5*time.Second)
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(30 * time.Second))
			stop := make(chan struct{})
			wg.Add(2)
			go func() { // writer: pipelines until the reader has seen the end
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					if _, err := c.Write(pipeline); err != nil {
						return
					}
				}
			}()
			go func() { // reader: whole replies, then EOF
				defer wg.Done()
				defer close(stop)
				br := bufio.NewReaderSize(c, 64<<10)
				got := make([]byte, len(wantGet))
				for {
					if _, err := io.ReadFull(br, got[:1]); err != nil {
						if !errors.Is(err, io.EOF) {
							errs[i] = fmt.Errorf("after %d replies: %w", replies[i], err)
						}
						_ = c.Close()
						return
					}
					if _, err := io.ReadFull(br, got[1:]); err != nil {
						errs[i] = fmt.Errorf("reply %d cut: %w", replies[i], err)
						return
					}
					if !bytes.Equal(got, wantGet) {
						errs[i] = fmt.Errorf("reply %d differs first at byte %d", replies[i], firstDiff(got, wantGet))
						return
					}
					if replies[i]++; replies[i] == 1000 {
						reading <- struct{}{}
					}
				}
			}()
		}
		for range clients {
			select {
			case <-reading:
			case <-time.After(20 * time.Second):
				t.Fatal("clients not reading replies after 20s")
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("client %d: %v", i, err)
			}
		}
		t.Logf("%s: replies per client %v, each ended by the server's FIN", model, replies)
	})
}
