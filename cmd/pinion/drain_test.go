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
	const clients = 8
	forEachModel(t, func(t *testing.T, model string) {
		srv := newServer(t, model, func(c *serveConfig) { c.proto = "resp" })
		batch, readOne := respGetPipeline(t, srv.addr())
		wait := pipelinedClients(t, srv.addr(), clients, batch, 1000, readOne)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		t.Logf("%s: replies per client %v, each ended by the server's FIN", model, wait())
	})
}

// respGetPipeline SETs a 4 KiB value on the RESP server at addr and
// returns a batch of 64 GETs of it and a reader of one reply that checks
// the value.
func respGetPipeline(t *testing.T, addr string) (batch []byte, readOne func(*bufio.Reader) error) {
	t.Helper()
	value := bytes.Repeat([]byte("v"), 4<<10)
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := fmt.Fprintf(c, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%d\r\n%s\r\n", len(value), value); err != nil {
		t.Fatalf("SET: %v", err)
	}
	if line, err := bufio.NewReader(c).ReadString('\n'); line != "+OK\r\n" || err != nil {
		t.Fatalf("SET: got %q, %v", line, err)
	}
	want := fmt.Appendf(nil, "$%d\r\n%s\r\n", len(value), value)
	return bytes.Repeat([]byte("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"), 64), func(br *bufio.Reader) error {
		got := make([]byte, len(want))
		if _, err := io.ReadFull(br, got); err != nil {
			return err
		}
		if !bytes.Equal(got, want) {
			return fmt.Errorf("differs first at byte %d", firstDiff(got, want))
		}
		return nil
	}
}

// pipelinedClients starts n clients of addr, each writing batch over and
// over without waiting for replies while it reads them with readOne, until
// the server ends the connection. It returns once every client has read
// warm replies. wait then waits for the clients to end, fails t for each
// whose connection did not end with EOF between two whole replies (a reply
// cut, a reset, a wrong reply), and returns how many replies each read.
func pipelinedClients(t *testing.T, addr string, n int, batch []byte, warm int, readOne func(*bufio.Reader) error) (wait func() []int) {
	t.Helper()
	var wg sync.WaitGroup
	replies := make([]int, n)
	errs := make([]error, n)
	reading := make(chan struct{}, n)
	for i := range n {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		t.Cleanup(func() { _ = c.Close() })
		_ = c.SetDeadline(time.Now().Add(time.Minute))
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
				if _, err := c.Write(batch); err != nil {
					return
				}
			}
		}()
		go func() { // reader: whole replies, then EOF
			defer wg.Done()
			defer close(stop)
			defer c.Close()
			br := bufio.NewReaderSize(c, 64<<10)
			for {
				if _, err := br.Peek(1); err != nil {
					if !errors.Is(err, io.EOF) {
						errs[i] = fmt.Errorf("after %d replies: %w", replies[i], err)
					}
					return
				}
				if err := readOne(br); err != nil {
					errs[i] = fmt.Errorf("reply %d cut or wrong: %w", replies[i], err)
					return
				}
				if replies[i]++; replies[i] == warm {
					reading <- struct{}{}
				}
			}
		}()
	}
	for range n {
		select {
		case <-reading:
		case <-time.After(20 * time.Second):
			t.Fatalf("clients not reading %d replies each after 20s", warm)
		}
	}
	return func() []int {
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("client %d: %v", i, err)
			}
		}
		return replies
	}
}
