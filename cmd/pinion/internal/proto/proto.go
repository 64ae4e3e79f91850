package proto

import (
	"fmt"
	"io"
	"net"
	"time"

	"github.com/pinion-net/pinion/codec"
)

// A Protocol is the code both server models share. Serve consumes the
// complete requests at the start of in, appends their replies to out, and
// says what the connection does next. It never blocks: a reply owed only
// after blocking work is marked in the Action, and each model provides the
// blocking (the offload pool for the loop model, the connection's own
// goroutine for the goroutine model).
//
// in is valid only during the call; out is the caller's buffer, grown by
// append.
type Protocol interface {
	Serve(sc *Scratch, in, out []byte) (n int, reply []byte, next Action)
}

// Action is what a connection does after Serve.
type Action struct {
	// Close: close once the replies are written (a "Connection: close",
	// a QUIT, a refused request). Err, when set, is the reason.
	Close bool
	Err   error
	// Block > 0: the replies from BlockFrom on are owed only after that
	// much blocking work. Serve stops after such a request; the caller
	// serves the rest of the input once it is written.
	Block     time.Duration
	BlockFrom int
	// Partial: in holds the start of a request not complete yet.
	Partial bool
}

// Scratch is reusable parsing state, one per goroutine that serves: one
// per loop in the loop model, one per connection in the goroutine model.
// The caller sets Now and Peer before each Serve.
type Scratch struct {
	Now  time.Time
	Peer Peer   // the connection being served, for GET /whoami
	Out  []byte // the loop model's reply buffer, kept here for reuse
	// Draining: the server drains (docs/operations.md), so the
	// connection ends where a request ends: after this call's replies,
	// unless a request is partial. HTTP answers with "Connection: close".
	Draining bool

	// Conn is the HTTP parse progress of the connection being served, nil
	// for Own: the goroutine model keeps one Scratch per connection, and
	// so uses Own; the loop model points Conn at the connection's own
	// progress once it has one.
	Conn *codec.RequestProgress
	Own  codec.RequestProgress

	req  codec.Request
	args [][]byte
	date codec.DateCache
	resp codec.ResponseCache // whole renderings of the StaticResponses served
}

// progress returns the parse progress of the connection being served.
func (sc *Scratch) progress() *codec.RequestProgress {
	if sc.Conn != nil {
		return sc.Conn
	}
	return &sc.Own
}

// Peer is what a protocol may ask of the connection it serves: the
// client's address as the server sees it (after a PROXY header). Both
// *engine.Conn and net.Conn have it.
type Peer interface{ RemoteAddr() net.Addr }

// Echo sends every byte back, in order, after Delay of blocking work when
// Delay > 0.
type Echo struct {
	Delay time.Duration
}

// Serve echoes all of in; while draining it then closes.
func (e Echo) Serve(sc *Scratch, in, out []byte) (int, []byte, Action) {
	return len(in), append(out, in...), Action{Block: e.Delay, Close: sc.Draining}
}

// Options are the settings protocols take from the serve flags.
type Options struct {
	EchoDelay time.Duration // echo: blocking work before each reply
	MaxHeader int           // HTTP request line and headers, RESP inline command, bytes
	MaxBody   int64         // HTTP body, RESP bulk string, bytes
}

// New returns the protocol called name: echo, http or resp.
func New(name string, o Options) (Protocol, error) {
	switch name {
	case "echo":
		return Echo{Delay: o.EchoDelay}, nil
	case "http":
		return newHTTP(o)
	case "resp":
		return newRESP(o)
	}
	return nil, fmt.Errorf("unknown protocol %q (want echo, http, resp or proxy)", name)
}

// Close releases what a protocol holds beyond its connections, for
// those that are io.Closers (RESP's store stops its sweeper). A server
// calls it once it has stopped serving.
func Close(p Protocol) {
	if c, ok := p.(io.Closer); ok {
		_ = c.Close()
	}
}
