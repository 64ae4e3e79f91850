package main

import (
	"fmt"
	"io"
	"net"
	"time"

	"github.com/pinion-net/pinion/codec"
)

// A protocol is the code both server models share. serve consumes the
// complete requests at the start of in, appends their replies to out, and
// says what the connection does next. It never blocks: a reply owed only
// after blocking work is marked in the action, and each model provides the
// blocking (the offload pool for the loop model, the connection's own
// goroutine for the goroutine model).
//
// in is valid only during the call; out is the caller's buffer, grown by
// append.
type protocol interface {
	serve(sc *scratch, in, out []byte) (n int, reply []byte, next action)
}

// action is what a connection does after serve.
type action struct {
	// close: close once the replies are written (a "Connection: close",
	// a QUIT, a refused request). err, when set, is the reason.
	close bool
	err   error
	// block > 0: the replies from blockFrom on are owed only after that
	// much blocking work. serve stops after such a request; the caller
	// serves the rest of the input once it is written.
	block     time.Duration
	blockFrom int
	// partial: in holds the start of a request not complete yet.
	partial bool
}

// scratch is reusable parsing state, one per goroutine that serves: one
// per loop in the loop model, one per connection in the goroutine model.
type scratch struct {
	now  time.Time
	peer addrPeer // the connection being served, for GET /whoami
	// draining: the server drains (serve_drain.go), so the connection
	// ends where a request ends: after this call's replies, unless a
	// request is partial.
	draining bool
	req      codec.Request
	args     [][]byte
	date     codec.DateCache
	out      []byte // the loop model's reply buffer

	// conn is the HTTP parse progress of the connection being served, nil
	// for own: the goroutine model keeps one scratch per connection, and
	// so uses own; the loop model points conn at the connection's own
	// progress once it has one (see loopHandler.OnData).
	conn *codec.RequestProgress
	own  codec.RequestProgress
}

// progress returns the parse progress of the connection being served.
func (sc *scratch) progress() *codec.RequestProgress {
	if sc.conn != nil {
		return sc.conn
	}
	return &sc.own
}

// addrPeer is what a protocol may ask of the connection it serves: the
// client's address as the server sees it (after a PROXY header). Both
// *engine.Conn and net.Conn have it.
type addrPeer interface{ RemoteAddr() net.Addr }

// echo sends every byte back, in order, after delay of blocking work when
// delay > 0.
type echo struct {
	delay time.Duration
}

func (e echo) serve(sc *scratch, in, out []byte) (int, []byte, action) {
	return len(in), append(out, in...), action{block: e.delay, close: sc.draining}
}

// protoOptions are the settings protocols take from the serve flags.
type protoOptions struct {
	echoDelay     time.Duration
	headerTimeout time.Duration
	maxHeader     int
	maxBody       int64
}

// protocolOf returns the protocol the serve flags name, or nil for the
// proxy, which relays bytes and parses none.
func protocolOf(c serveConfig) (protocol, error) {
	if c.proto == "proxy" {
		return nil, nil
	}
	return newProtocol(c.proto, c.protoOptions())
}

func newProtocol(name string, o protoOptions) (protocol, error) {
	switch name {
	case "echo":
		return echo{delay: o.echoDelay}, nil
	case "http":
		return newHTTP(o)
	case "resp":
		return newRESP(o)
	}
	return nil, fmt.Errorf("unknown protocol %q (want echo, http, resp or proxy)", name)
}

// closeProtocol releases what a protocol holds beyond its connections, for
// those that are io.Closers (resp's store stops its sweeper). A server
// calls it once it has stopped serving.
func closeProtocol(p protocol) {
	if c, ok := p.(io.Closer); ok {
		_ = c.Close()
	}
}
