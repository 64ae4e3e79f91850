package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// The offload storm: many HTTP clients pipeline GET /block into a small
// pool under the pause policy, so most of their requests wait (in the
// pool's queue, on the loop, or unread in the socket), and then the
// clients give up and close. The loop model must notice although it is
// not reading those connections.

const (
	stormConns    = 400
	stormPipeline = 8
	stormBlock    = 500 * time.Millisecond
	stormWorkers  = 4
	stormQueue    = 16
)

// startStorm starts the loop model's HTTP server with a small pool; start
// is startServer or newServer.
func startStorm(t *testing.T, start func(testing.TB, string, func(*serveConfig)) server) *loopServer {
	t.Helper()
	srv := start(t, "loop", func(c *serveConfig) {
		c.proto = "http"
		c.offloadWorkers, c.offloadQueue = stormWorkers, stormQueue
	})
	return srv.(*loopServer)
}

// started returns how many offloaded tasks started: the pool's completed
// ones less those it skipped because their connection was gone.
func started(s *loopServer) uint64 {
	st := s.e.Stats()
	n := st.Offload.Completed
	for _, l := range st.Loops {
		n -= l.OffloadSkipped
	}
	return n
}

// storm connects n clients, each pipelining stormPipeline blocking
// requests, and returns them once the pool's queue is full and every other
// connection waits for it, paused. The workers may be busy already.
func storm(t *testing.T, s *loopServer, n int) []net.Conn {
	t.Helper()
	req := strings.Repeat(fmt.Sprintf("GET /block?ms=%d HTTP/1.1\r\nHost: storm\r\n\r\n", stormBlock.Milliseconds()), stormPipeline)
	conns := make([]net.Conn, 0, n)
	busy := s.e.Stats().Offload.Busy
	for range n {
		c, err := net.DialTimeout("tcp", s.addr(), 10*time.Second)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		conns = append(conns, c)
		if _, err := c.Write([]byte(req)); err != nil {
			t.Fatalf("write: %v", err)
		}
	}
	waitUntil(t, 10*time.Second, "every connection served or waiting for the pool", func() bool {
		o := s.e.Stats().Offload
		return o.Waiting == int64(n)-(stormWorkers-busy)-stormQueue && o.Depth == stormQueue
	})
	return conns
}

// waitUntil polls cond every few milliseconds until it holds or d passes.
func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > d {
			t.Fatalf("after %v still waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start)
}

// processFDs counts this process's open descriptors.
func processFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count open fds: %v", err)
	}
	return len(ents)
}

// blockingRoundTrip sends one GET /block?ms=10 on a new connection and
// returns how long the 200 took.
func blockingRoundTrip(t *testing.T, addr string) time.Duration {
	t.Helper()
	start := time.Now()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.Write([]byte("GET /block?ms=10 HTTP/1.1\r\nHost: probe\r\n\r\n")); err != nil {
		t.Fatalf("write: %v", err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 200 ") {
		t.Fatalf("probe: got %q, %v; want a 200", line, err)
	}
	return time.Since(start)
}

// TestOffloadStormClientsLeave: stormWorkers clients hold every worker
// with a long blocking request; the storm's clients fill the pool's queue
// and wait, paused, then close. With no worker free, nothing but the
// paused connections' hang-up interest can tell the loop they are gone:
// their descriptors are released within 2s while the workers are still
// busy, none of their tasks ever starts (those in the pool's queue are
// skipped, counted as dropped), and once the long requests are answered
// the pool serves a new blocking request at once.
func TestOffloadStormClientsLeave(t *testing.T) {
	const hold = 5 * time.Second // long enough for the storm to gather on a slow machine
	s := startStorm(t, startServer)
	base := processFDs(t) // the listeners and pollers are the server's baseline
	var stayers []*bufio.Reader
	for range stormWorkers {
		c, err := net.DialTimeout("tcp", s.addr(), 10*time.Second)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(30 * time.Second))
		fmt.Fprintf(c, "GET /block?ms=%d HTTP/1.1\r\nHost: stayer\r\n\r\n", hold.Milliseconds())
		stayers = append(stayers, bufio.NewReader(c))
	}
	waitUntil(t, 10*time.Second, "every worker busy", func() bool { return s.e.Stats().Offload.Busy == stormWorkers })
	held := time.Now()
	conns := storm(t, s, stormConns-stormWorkers)
	for _, c := range conns {
		_ = c.Close()
	}
	stayerFDs := 2 * stormWorkers // client and server side
	released := waitUntil(t, 5*time.Second, "the storm's descriptors released", func() bool { return processFDs(t) <= base+stayerFDs })
	if o := s.e.Stats().Offload; o.Busy != stormWorkers {
		t.Fatalf("the workers were freed before the descriptors were released (busy %d): the test proves nothing", o.Busy)
	}
	for i, br := range stayers {
		line, err := br.ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "HTTP/1.1 200 ") {
			t.Fatalf("stayer %d: got %q, %v; want a 200", i, line, err)
		}
	}
	answered := time.Since(held)
	probe := blockingRoundTrip(t, s.addr())
	// The pool counts a task completed once its function returns, which
	// may be just after the client has read the reply it wrote.
	want := uint64(stormWorkers + 1)
	waitUntil(t, 5*time.Second, "the probe's task counted", func() bool { return started(s) >= want })
	o := s.e.Stats().Offload
	n := started(s)
	t.Logf("%d clients x %d requests behind %d held workers: descriptors released %v after the clients closed; held requests answered after %v; a new blocking request then took %v; tasks: %d started, %d dropped (never started), %d late replies",
		stormConns-stormWorkers, stormPipeline, stormWorkers, released.Round(time.Millisecond), answered.Round(time.Millisecond),
		probe.Round(time.Millisecond), n, o.DroppedQueued, o.LateReplies)
	if released > 2*time.Second {
		t.Errorf("descriptors released after %v, want within 2s", released)
	}
	if probe > time.Second {
		t.Errorf("a new blocking request took %v, want under 1s", probe)
	}
	if n != want {
		t.Errorf("%d tasks started, want %d (the held ones and the probe): tasks of gone clients started", n, want)
	}
	if o.DroppedQueued < stormQueue {
		t.Errorf("%d tasks counted as dropped, want at least the %d in the pool's queue", o.DroppedQueued, stormQueue)
	}
}

// TestOffloadStormShutdown: Shutdown during the storm, with a 2s deadline,
// returns by the deadline (context.DeadlineExceeded: the clients are still
// there and never read) and every descriptor is released. It is what
// SIGTERM runs in serve (with a 10s deadline): the running tasks see their
// contexts cancelled and the queued ones never start, so the pool's
// workers exit at once.
func TestOffloadStormShutdown(t *testing.T) {
	base := processFDs(t)
	s := startStorm(t, newServer)
	conns := storm(t, s, stormConns)
	var once sync.Once
	closeClients := func() {
		once.Do(func() {
			for _, c := range conns {
				_ = c.Close()
			}
		})
	}
	defer closeClients()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	err := s.shutdown(ctx)
	took := time.Since(start)
	t.Logf("Shutdown returned %v after %v", err, took.Round(time.Millisecond))
	if took > 3*time.Second {
		t.Errorf("Shutdown took %v with a 2s deadline", took)
	}
	closeClients()
	waitUntil(t, 5*time.Second, "descriptors back to before the server", func() bool { return processFDs(t) <= base })
	if n := s.e.Stats().Conns; n != 0 {
		t.Errorf("connections left: %d", n)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown: got %v, want context.DeadlineExceeded", err)
	}
}
