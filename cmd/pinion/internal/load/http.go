package load

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/pinion-net/pinion/codec"
)

// The bodies that `pinion serve -proto http` promises for the routes whose
// body the load generator checks (part of the command's contract, README.md,
// "pinion serve"). They are written out here rather than taken from the
// server's code, so that the check is independent of what it checks.
const (
	loadPlaintextBody = "Hello, World!"
	loadJSONBody      = `{"message":"Hello, World!"}`
)

// loadHTTPReplyGuess is roughly how long a response is, for flow control
// and the first size of the read buffer; a response of any size up to
// maxResponse is still read whole.
const loadHTTPReplyGuess = 256

// httpLoad is -proto http: every request is "GET <path> HTTP/1.1" with a
// Host header, the same bytes on every connection, so one batch of copies
// of it is built here and written by all the sessions.
//
// Every response must be HTTP/1.1 with a Content-Length body, must keep the
// connection alive, and must have the status of -status. With status 200,
// its body must be the one the route promises for /plaintext and /json; for
// any other path, or another status, only the status is checked.
type httpLoad struct {
	req    int    // bytes of one request
	batch  []byte // copies of the request; shared, never written after newHTTPLoad
	ahead  int    // most requests a connection may have in flight
	status int    // the status every response must have
	body   []byte // the body every response must have; nil: not checked
}

func newHTTPLoad(cfg loadConfig) (*httpLoad, error) {
	if err := loadCheckPath(cfg.path); err != nil {
		return nil, err
	}
	req := "GET " + cfg.path + " HTTP/1.1\r\nHost: " + cfg.addr + "\r\n\r\n"
	h := &httpLoad{req: len(req), ahead: aheadFor(len(req), loadHTTPReplyGuess), status: cfg.status}
	h.batch = bytes.Repeat([]byte(req), min(cfg.pipeline, h.ahead))
	switch {
	case cfg.status != 200:
	case cfg.path == "/plaintext":
		h.body = []byte(loadPlaintextBody)
	case cfg.path == "/json":
		h.body = []byte(loadJSONBody)
	}
	return h, nil
}

// loadCheckPath accepts an origin-form request target: a '/' and then
// visible ASCII, so that it cannot break the request line.
func loadCheckPath(path string) error {
	if len(path) == 0 || path[0] != '/' {
		return fmt.Errorf("-path must start with '/', got %q", path)
	}
	for i := range len(path) {
		if c := path[i]; c <= ' ' || c >= 0x7f {
			return fmt.Errorf("-path must be visible ASCII without spaces, got %q", path)
		}
	}
	return nil
}

func (h *httpLoad) session(int) loadSession { return &httpSession{h: h} }

func (h *httpLoad) readSize(pipeline int) int { return min(pipeline*loadHTTPReplyGuess, loadAhead) }

// httpSession is one connection's requests and responses.
type httpSession struct {
	h    *httpLoad
	left int    // requests of the batch still to write
	owed int    // requests written and not yet answered
	seen uint64 // responses verified since the connection opened
	resp codec.Response
}

func (s *httpSession) begin(n int) { s.left = n }

func (s *httpSession) next() []byte {
	k := min(s.left, s.h.ahead-s.owed, len(s.h.batch)/s.h.req)
	if k <= 0 {
		return nil
	}
	s.left -= k
	s.owed += k
	return s.h.batch[:k*s.h.req]
}

func (s *httpSession) check(in []byte) (used, done int, err error) {
	for used < len(in) {
		if s.owed == 0 {
			return used, done, fmt.Errorf("%w: %d bytes after response %d, which answered the last request sent",
				errVerify, len(in)-used, s.seen)
		}
		n, err := readResponse(in[used:], &s.resp)
		if err != nil {
			return used, done, fmt.Errorf("%w: response %d: %v", errVerify, s.seen+1, err)
		}
		if n == 0 {
			break
		}
		if err := s.verify(&s.resp); err != nil {
			return used, done, err
		}
		used += n
		done++
		s.owed--
		s.seen++
	}
	return used, done, nil
}

// verify checks one well-formed response against what was asked.
func (s *httpSession) verify(r *codec.Response) error {
	switch {
	case r.Status != s.h.status:
		return fmt.Errorf("%w: response %d: status %d, want %d", errVerify, s.seen+1, r.Status, s.h.status)
	case !r.KeepAlive:
		return fmt.Errorf("%w: response %d: \"Connection: close\", but the server should keep the connection alive",
			errVerify, s.seen+1)
	case s.h.body != nil && !bytes.Equal(r.Body, s.h.body):
		return fmt.Errorf("%w: response %d: body %s, want %q", errVerify, s.seen+1, loadExcerpt(r.Body), s.h.body)
	}
	return nil
}

// loadExcerpt quotes b, or its first 64 bytes, for an error message.
func loadExcerpt(b []byte) string {
	const most = 64
	if len(b) <= most {
		return fmt.Sprintf("%q", b)
	}
	return fmt.Sprintf("%q... (%d bytes)", b[:most], len(b))
}

// loadHTTPMaxHeader bounds a response's status line and header section,
// the empty line ending it included.
const loadHTTPMaxHeader = 8 << 10

// loadHTTPLimits bound the responses the load generator reads.
var loadHTTPLimits = codec.HTTPLimits{MaxHeaderBytes: loadHTTPMaxHeader, MaxBody: maxResponse}

// readResponse parses the response at the start of b into r with
// codec.ParseResponse, under loadHTTPLimits, and adds what a GET to pinion
// serve may get back: HTTP/1.1 and a final status (no interim 1xx: no
// request asks for one). It returns the bytes the response takes, or 0 and
// a nil error when b holds only part of it. It allocates nothing unless it
// fails.
//
// codec's rules are strict, as befits checking a server: the status line
// is exactly "HTTP/1.1 NNN reason"; field lines end in CRLF, with no space
// before the colon and no obs-fold; the body is framed by Content-Length
// alone (204 and 304 have none), so a Transfer-Encoding or a missing
// Content-Length is refused.
func readResponse(b []byte, r *codec.Response) (int, error) {
	n, err := codec.ParseResponse(b, r, &loadHTTPLimits)
	switch {
	case err != nil:
		return 0, reason(err)
	case n == 0:
		return 0, nil
	case r.Minor != 1:
		return 0, fmt.Errorf("HTTP/%d.%d response, want HTTP/1.1", r.Major, r.Minor)
	case r.Status < 200:
		return 0, fmt.Errorf("interim response %d, which no request asked for", r.Status)
	}
	return n, nil
}

// reason returns codec's refusal as its reason alone: the status an
// *HTTPError carries classes a request's fault, which says nothing here.
func reason(err error) error {
	if he, ok := errors.AsType[*codec.HTTPError](err); ok {
		return errors.New(he.Reason)
	}
	return err
}
