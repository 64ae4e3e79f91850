package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The soak's clients. Each workload runs until its context ends and
// counts what it did; the ones that must succeed (steady, churn, slow
// readers, idle) report their first error, the storms do not care how
// the server treats them.

// soakProto is how the soak speaks one protocol: a small request and its
// reply, and a pipeline of requests with large replies for slow readers.
type soakProto struct {
	name string
	// setup runs once on a fresh connection before the load (RESP: store
	// the values the requests read).
	setup func(c net.Conn, br *bufio.Reader) error
	// small is a request and the exact reply it gets.
	small, smallReply []byte
	// big is a request with a large reply, which readBig reads from br
	// (into buf, of soakBigValue+64 KiB) and checks. bigs is
	// soakPipeline of them, built once.
	big     []byte
	bigs    []byte
	readBig func(br *bufio.Reader, buf []byte) error
	// block is a pipeline of requests that offload blocking work; nil
	// when the protocol has none.
	block []byte
}

const soakBigValue = 256 << 10

// soakPipeline is how many big requests a slow reader pipelines.
const soakPipeline = 16

func soakProtos() map[string]soakProto {
	ps := soakProtoTable()
	for k, p := range ps {
		p.bigs = bytes.Repeat(p.big, soakPipeline)
		ps[k] = p
	}
	return ps
}

func soakProtoTable() map[string]soakProto {
	val := bytes.Repeat([]byte("0123456789abcdef"), soakBigValue/16)
	echoBig := bytes.Repeat([]byte("e"), soakBigValue)
	httpHead := func(body []byte) []byte {
		return fmt.Appendf(nil, "POST /echo HTTP/1.1\r\nHost: soak\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	}
	readExact := func(br *bufio.Reader, buf, want []byte) error {
		got := buf[:len(want)]
		if _, err := io.ReadFull(br, got); err != nil {
			return err
		}
		return equalOrDiff(got, want)
	}
	respBig := fmt.Appendf(nil, "$%d\r\n%s\r\n", len(val), val)
	return map[string]soakProto{
		"echo": {
			name: "echo", small: []byte("ping\n"), smallReply: []byte("ping\n"),
			big:     echoBig,
			readBig: func(br *bufio.Reader, buf []byte) error { return readExact(br, buf, echoBig) },
		},
		"http": {
			name:       "http",
			small:      []byte("GET /json HTTP/1.1\r\nHost: soak\r\n\r\n"),
			smallReply: nil, // has a Date: checked by shape in readSmall
			big:        httpHead(val),
			readBig: func(br *bufio.Reader, buf []byte) error {
				n, err := httpReadHead(br)
				if err != nil {
					return err
				}
				if n != len(val) {
					return fmt.Errorf("Content-Length %d, want %d", n, len(val))
				}
				return readExact(br, buf, val)
			},
			block: []byte(strings.Repeat("GET /block?ms=50 HTTP/1.1\r\nHost: soak\r\n\r\n", 4)),
		},
		"resp": {
			name: "resp",
			setup: func(c net.Conn, br *bufio.Reader) error {
				if _, err := fmt.Fprintf(c, "*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$%d\r\n%s\r\n", len(val), val); err != nil {
					return err
				}
				if line, err := br.ReadString('\n'); err != nil || line != "+OK\r\n" {
					return fmt.Errorf("SET big: %q, %v", line, err)
				}
				return nil
			},
			small: []byte("*1\r\n$4\r\nPING\r\n"), smallReply: []byte("+PONG\r\n"),
			big:     []byte("*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n"),
			readBig: func(br *bufio.Reader, buf []byte) error { return readExact(br, buf, respBig) },
		},
	}
}

func equalOrDiff(got, want []byte) error {
	if i := firstDiff(got, want); i >= 0 {
		return fmt.Errorf("reply of %d bytes differs from the %d expected at byte %d", len(got), len(want), i)
	}
	return nil
}

// soakCounts are a combination's tallies.
type soakCounts struct {
	requests, conns, resets, storms atomic.Int64

	mu  sync.Mutex
	err error // the first failure of a workload that must succeed
}

func (s *soakCounts) fail(what string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = fmt.Errorf("%s: %w", what, err)
	}
}

func (s *soakCounts) failed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// soakClient is one connection of a workload.
type soakClient struct {
	c  net.Conn
	br *bufio.Reader
	p  soakProto
}

// soakDial connects to addr. The soak's end does not cut a dial short: a
// dial cancelled by it would look like a failure of the server.
func soakDial(addr string, p soakProto) (*soakClient, error) {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	return &soakClient{c: c, br: bufio.NewReaderSize(c, 64<<10), p: p}, nil
}

// roundTrip sends the small request and checks its reply.
func (sc *soakClient) roundTrip() error {
	_ = sc.c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := sc.c.Write(sc.p.small); err != nil {
		return err
	}
	if sc.p.name == "http" {
		n, err := httpReadHead(sc.br)
		if err != nil {
			return err
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(sc.br, body); err != nil {
			return err
		}
		if string(body) != `{"message":"Hello, World!"}` {
			return fmt.Errorf("body %q, want %q", body, `{"message":"Hello, World!"}`)
		}
		return nil
	}
	got := make([]byte, len(sc.p.smallReply))
	if _, err := io.ReadFull(sc.br, got); err != nil {
		return err
	}
	return equalOrDiff(got, sc.p.smallReply)
}

// steady keeps one connection busy with round trips until ctx ends.
func soakSteady(ctx context.Context, addr string, p soakProto, n *soakCounts) {
	sc, err := soakDial(addr, p)
	if err != nil {
		n.fail("steady dial", err)
		return
	}
	defer sc.c.Close()
	for ctx.Err() == nil {
		if err := sc.roundTrip(); err != nil {
			n.fail("steady", err)
			return
		}
		n.requests.Add(1)
	}
}

// soakChurn opens a connection, makes one round trip and closes it, every
// period.
func soakChurn(ctx context.Context, addr string, p soakProto, period time.Duration, n *soakCounts) {
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		sc, err := soakDial(addr, p)
		if err != nil {
			if ctx.Err() == nil {
				n.fail("churn dial", err)
			}
			return
		}
		err = sc.roundTrip()
		_ = sc.c.Close()
		if err != nil {
			n.fail("churn", err)
			return
		}
		n.conns.Add(1)
	}
}

// soakResets sends size connections every period that write half a
// request (or a whole pipeline) and reset.
func soakResets(ctx context.Context, addr string, p soakProto, size int, period time.Duration, n *soakCounts) {
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		for i := range size {
			sc, err := soakDial(addr, p)
			if err != nil {
				continue
			}
			req := p.bigs[:2*len(p.big)]
			if i%2 == 0 {
				req = req[:len(req)/3]
			}
			_, _ = sc.c.Write(req)
			_ = sc.c.(*net.TCPConn).SetLinger(0)
			_ = sc.c.Close()
			n.resets.Add(1)
		}
	}
}

// soakSlowReader pipelines soakPipeline big requests and reads the
// replies at rate bytes a second, over and over, on new connections.
func soakSlowReader(ctx context.Context, addr string, p soakProto, rate float64, n *soakCounts) {
	buf := make([]byte, soakBigValue+64<<10)
	for ctx.Err() == nil {
		sc, err := soakDial(addr, p)
		if err != nil {
			if ctx.Err() == nil {
				n.fail("slow reader dial", err)
			}
			return
		}
		err = soakSlowRound(sc, rate, buf)
		_ = sc.c.Close()
		if err != nil {
			n.fail("slow reader", err)
			return
		}
		n.requests.Add(soakPipeline)
	}
}

func soakSlowRound(sc *soakClient, rate float64, buf []byte) error {
	_ = sc.c.SetDeadline(time.Now().Add(60 * time.Second))
	werr := make(chan error, 1)
	go func() { _, err := sc.c.Write(sc.p.bigs); werr <- err }()
	sc.br.Reset(pacedReader{r: sc.c, p: newPacer(rate)})
	for i := range soakPipeline {
		if err := sc.p.readBig(sc.br, buf); err != nil {
			return fmt.Errorf("reply %d of %d: %w", i, soakPipeline, err)
		}
	}
	return <-werr
}

// soakOffloadStorm sends size connections every period that pipeline
// blocking requests and leave before the replies come.
func soakOffloadStorm(ctx context.Context, addr string, p soakProto, size int, period time.Duration, n *soakCounts) {
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		var cs []net.Conn
		for range size {
			sc, err := soakDial(addr, p)
			if err != nil {
				continue
			}
			_, _ = sc.c.Write(p.block)
			cs = append(cs, sc.c)
		}
		for _, c := range cs {
			_ = c.Close()
		}
		n.storms.Add(1)
	}
}

// soakIdle opens count connections, holds them idle until ctx ends, then
// checks that each still answers.
func soakIdle(ctx context.Context, addr string, p soakProto, count int, n *soakCounts) {
	var cs []*soakClient
	defer func() {
		for _, sc := range cs {
			_ = sc.c.Close()
		}
	}()
	for range count {
		sc, err := soakDial(addr, p)
		if err != nil {
			n.fail("idle dial", err)
			return
		}
		cs = append(cs, sc)
	}
	<-ctx.Done()
	for i, sc := range cs {
		if err := sc.roundTrip(); err != nil {
			n.fail(fmt.Sprintf("idle connection %d after the soak", i), err)
			return
		}
	}
}
