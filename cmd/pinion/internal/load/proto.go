package load

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
)

// errVerify marks a response that does not match its request. The errors
// wrapping it say what was wrong, and the report puts the protocol first.
var errVerify = errors.New("verification failed")

// A loadProto is the client side of one protocol: it makes the session of
// each connection.
type loadProto interface {
	// session returns the session of connection id.
	session(id int) loadSession
	// readSize returns the read buffer a connection needs with pipeline
	// requests in flight; a session may still leave a partial response
	// unconsumed, and the buffer then grows.
	readSize(pipeline int) int
}

// A loadSession writes one connection's requests and verifies its
// responses. It is used by one goroutine and allocates nothing per request.
//
// A batch goes: begin(n), then next until it returns nil, reading and
// passing what arrives to check whenever next returns nil, until check has
// reported n responses done. next may return nil before the whole batch is
// written (flow control): the caller then reads, and calls next again.
type loadSession interface {
	// begin starts a batch of n requests.
	begin(n int)
	// next returns the next bytes of the batch to write, or nil when there
	// is nothing to write until more responses arrive. The slice may be
	// shared with other sessions: it must not be written to, and it is
	// valid until the next call.
	next() []byte
	// check verifies response bytes in order. It returns how many it
	// consumed (the rest is passed again with more bytes) and how many
	// responses it completed; a mismatch returns an error wrapping
	// errVerify.
	check(in []byte) (used, done int, err error)
}

// newLoadProto returns the protocol cfg.proto with the settings of cfg.
func newLoadProto(cfg loadConfig) (loadProto, error) {
	switch cfg.proto {
	case "echo":
		return newEchoLoad(cfg.size), nil
	case "http":
		return newHTTPLoad(cfg)
	case "resp":
		return newRESPLoad(cfg), nil
	}
	return nil, fmt.Errorf("unknown protocol %q (want echo, http or resp)", cfg.proto)
}

// loadAhead bounds what a connection has in flight: a session stops
// writing before the requests it has written and not had answered hold
// more than loadAhead bytes, or before their responses would, whichever of
// the two allows more requests. It is below what loopback socket buffers hold, so a writer
// that does not read cannot deadlock with a server that stops reading
// when its responses back up: either the requests fit in the buffers, and
// the writes never block, or the responses do, and the server never stops.
const loadAhead = 64 << 10

// aheadFor returns how many requests a connection may have in flight when
// each request takes req bytes and its response resp bytes: at least one.
func aheadFor(req, resp int) int { return max(1, loadAhead/max(1, min(req, resp))) }

// echoPeriod is the length of the echo pattern: a prime, so the phases of
// different connections are far apart.
const echoPeriod = 65521

// echoLoad sends every connection a stream that repeats one pseudo-random
// pattern, starting at a phase of its own, so a connection's expected bytes
// are a slice of the pattern and checking them is a memory compare.
type echoLoad struct {
	size int
	pat  []byte // the pattern twice over, so any window of up to echoPeriod bytes is contiguous
}

func newEchoLoad(size int) *echoLoad {
	r := rand.New(rand.NewPCG(0x70696e696f6e, 1))
	pat := make([]byte, 2*echoPeriod)
	for i := range echoPeriod {
		pat[i] = byte(r.Uint32())
	}
	copy(pat[echoPeriod:], pat[:echoPeriod])
	return &echoLoad{size: size, pat: pat}
}

func (e *echoLoad) session(id int) loadSession {
	// 40503 is coprime to the period: consecutive ids get phases spread
	// over the whole pattern.
	return &echoSession{pat: e.pat, size: e.size, phase: uint64(id) * 40503 % echoPeriod}
}

func (e *echoLoad) readSize(pipeline int) int { return min(pipeline*e.size, loadAhead) }

// echoSession is one connection's echo stream. Offsets count bytes since
// the connection opened.
type echoSession struct {
	pat   []byte
	size  int
	phase uint64
	sent  uint64 // bytes written
	recv  uint64 // bytes received and verified
	left  int    // bytes of the batch still to write
}

func (s *echoSession) begin(n int) { s.left = n * s.size }

func (s *echoSession) next() []byte {
	room := loadAhead - int(s.sent-s.recv)
	if s.left == 0 || room <= 0 {
		return nil
	}
	n := min(s.left, room, echoPeriod)
	at := (s.phase + s.sent) % echoPeriod
	s.sent += uint64(n)
	s.left -= n
	return s.pat[at : at+uint64(n)]
}

func (s *echoSession) check(in []byte) (used, done int, err error) {
	if owed := s.sent - s.recv; uint64(len(in)) > owed {
		return 0, 0, fmt.Errorf("%w: got %d bytes, only %d were owed", errVerify, len(in), owed)
	}
	before := s.recv / uint64(s.size)
	for p := in; len(p) > 0; {
		n := min(len(p), echoPeriod)
		at := (s.phase + s.recv) % echoPeriod
		want := s.pat[at : at+uint64(n)]
		if !bytes.Equal(p[:n], want) {
			i := mismatch(p[:n], want)
			return 0, 0, fmt.Errorf("%w: byte %d of the stream is %#02x, want %#02x",
				errVerify, s.recv+uint64(i), p[i], want[i])
		}
		s.recv += uint64(n)
		p = p[n:]
	}
	return len(in), int(s.recv/uint64(s.size) - before), nil
}

// mismatch returns the index of the first byte where a and b, of equal
// length, differ.
func mismatch(a, b []byte) int {
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return len(a)
}
