package load

import (
	"bytes"
	"fmt"
	"strconv"

	"github.com/pinion-net/pinion/codec"
)

// loadRESPBatch bounds the copies of its request a session keeps to write
// at once; a request larger than this is kept once and written alone.
const loadRESPBatch = 16 << 10

// loadRESPOK is the reply to SET.
const loadRESPOK = "+OK\r\n"

// loadRESPAlphabet is what values are made of: 64 printable bytes, so a
// value shows plainly in redis-cli and in error messages.
const loadRESPAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// respLoad is -proto resp: each connection SETs, or GETs, a key of its
// own. Its requests are built by the session, once, since they name the
// connection's key; and the replies are checked by comparing bytes, parsing
// only a reply that differs, to say what it was.
//
// With -op set every request is "SET key value" and every reply must be
// +OK. With -op get the first request of a connection is that SET, whose
// +OK counts as a response of the first batch, and every later one is
// "GET key", whose reply must be the value as a bulk string.
type respLoad struct {
	get      bool // -op get
	size     int  // value bytes
	pipeline int
}

func newRESPLoad(cfg loadConfig) *respLoad {
	return &respLoad{get: cfg.op == "get", size: cfg.size, pipeline: cfg.pipeline}
}

func (p *respLoad) session(id int) loadSession {
	key := []byte(fmt.Sprintf("key:%08d", id))
	value := loadRESPValue(id, p.size)
	set := loadRESPCommand(nil, []byte("SET"), key, value)
	s := &respSession{key: key, set: set, ok: []byte(loadRESPOK), primed: true, vlen: -1}
	step, reply := set, s.ok
	if p.get {
		step = loadRESPCommand(nil, []byte("GET"), key)
		reply = loadRESPBulk(value)
		s.primed, s.vlen = false, p.size
	}
	s.req, s.reply = len(step), reply
	s.ahead = aheadFor(len(step), len(reply))
	s.reqs = bytes.Repeat(step, max(1, min(p.pipeline, s.ahead, loadRESPBatch/len(step))))
	return s
}

func (p *respLoad) readSize(pipeline int) int {
	reply := len(loadRESPOK)
	if p.get {
		reply = len("$\r\n\r\n") + len(strconv.Itoa(p.size)) + p.size
	}
	return min(pipeline*reply, max(loadAhead, reply))
}

// loadRESPValue returns the value of connection id: size bytes of
// loadRESPAlphabet in an order drawn from id.
func loadRESPValue(id, size int) []byte {
	v := make([]byte, size)
	x := uint32(id)*0x9e3779b9 ^ 0x70696e69
	for i := range v {
		x = x*1664525 + 1013904223 // a linear congruential step; its top bits are the best
		v[i] = loadRESPAlphabet[x>>26]
	}
	return v
}

// loadRESPCommand appends the RESP array of bulk strings args to dst.
func loadRESPCommand(dst []byte, args ...[]byte) []byte {
	dst = append(dst, '*')
	dst = strconv.AppendInt(dst, int64(len(args)), 10)
	dst = append(dst, "\r\n"...)
	for _, a := range args {
		dst = append(dst, loadRESPBulk(a)...)
	}
	return dst
}

// loadRESPBulk returns b as a RESP bulk string.
func loadRESPBulk(b []byte) []byte {
	dst := []byte{'$'}
	dst = strconv.AppendInt(dst, int64(len(b)), 10)
	dst = append(dst, "\r\n"...)
	dst = append(dst, b...)
	return append(dst, "\r\n"...)
}

// respSession is one connection's requests and replies. Everything it
// writes and compares with is built by respLoad.session.
type respSession struct {
	key   []byte
	set   []byte // the SET request
	reqs  []byte // copies of the request of every batch after the first SET
	req   int    // bytes of one of them
	reply []byte // the reply each of them wants
	ok    []byte // loadRESPOK
	vlen  int    // -op get: the value's bytes; -op set: -1
	ahead int    // most requests in flight

	primed  bool   // the SET has been written, or is not needed (-op set)
	setOwed bool   // the SET's +OK is the next reply
	left    int    // requests of the batch still to write
	owed    int    // requests written and not yet answered
	seen    uint64 // replies verified since the connection opened
}

func (s *respSession) begin(n int) { s.left = n }

func (s *respSession) next() []byte {
	if !s.primed && s.left > 0 {
		s.primed, s.setOwed = true, true
		s.left--
		s.owed++
		return s.set
	}
	k := min(s.left, s.ahead-s.owed, len(s.reqs)/s.req)
	if k <= 0 {
		return nil
	}
	s.left -= k
	s.owed += k
	return s.reqs[:k*s.req]
}

func (s *respSession) check(in []byte) (used, done int, err error) {
	for used < len(in) {
		if s.owed == 0 {
			return used, done, fmt.Errorf("%w: %d bytes after reply %d, which answered the last request sent",
				errVerify, len(in)-used, s.seen)
		}
		want := s.reply
		if s.setOwed {
			want = s.ok
		}
		rest := in[used:]
		m := min(len(rest), len(want))
		if !bytes.Equal(rest[:m], want[:m]) {
			return used, done, s.mismatch(rest, want)
		}
		if m < len(want) {
			break
		}
		used += m
		done++
		s.owed--
		s.seen++
		s.setOwed = false
	}
	return used, done, nil
}

// mismatch describes the reply at the start of got, which differs from
// want.
func (s *respSession) mismatch(got, want []byte) error {
	what := "+OK"
	if !s.setOwed && s.vlen >= 0 {
		what = fmt.Sprintf("the %d-byte value of %s", s.vlen, s.key)
	}
	var r codec.Reply
	n, err := codec.ParseReply(got, &r, nil)
	switch {
	case err != nil:
		return fmt.Errorf("%w: reply %d is not RESP (%v): %s, want %s",
			errVerify, s.seen+1, err, loadExcerpt(got), what)
	case n == 0:
		m := min(len(got), len(want))
		return fmt.Errorf("%w: reply %d differs from %s at byte %d: %s",
			errVerify, s.seen+1, what, mismatch(got[:m], want[:m]), loadExcerpt(got))
	case r.Kind == codec.RESPErrorReply:
		return fmt.Errorf("%w: reply %d: -%s, want %s", errVerify, s.seen+1, r.Str, what)
	case r.Kind == codec.RESPBulkString && r.Null:
		return fmt.Errorf("%w: reply %d: nil bulk, want %s", errVerify, s.seen+1, what)
	case r.Kind == codec.RESPBulkString && len(r.Str) == s.vlen && !s.setOwed:
		return fmt.Errorf("%w: reply %d: value differs from %s at byte %d",
			errVerify, s.seen+1, what, mismatch(r.Str, s.value()))
	case r.Kind == codec.RESPBulkString:
		return fmt.Errorf("%w: reply %d: bulk string of %d bytes, want %s", errVerify, s.seen+1, len(r.Str), what)
	case r.Kind == codec.RESPArray:
		return fmt.Errorf("%w: reply %d: array of %d elements, want %s", errVerify, s.seen+1, len(r.Elems), what)
	}
	return fmt.Errorf("%w: reply %d: %v %s, want %s", errVerify, s.seen+1, r.Kind, loadExcerpt(got[:n]), what)
}

// value returns the value a GET wants, from the bulk string of s.reply.
func (s *respSession) value() []byte { return s.reply[len(s.reply)-2-s.vlen : len(s.reply)-2] }
