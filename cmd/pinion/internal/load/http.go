package load

import (
	"bytes"
	"fmt"
	"strings"
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
		n, r, err := parseHTTPResponse(in[used:])
		if err != nil {
			return used, done, fmt.Errorf("%w: response %d: %v", errVerify, s.seen+1, err)
		}
		if n == 0 {
			break
		}
		if err := s.verify(&r); err != nil {
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
func (s *httpSession) verify(r *loadHTTPResponse) error {
	switch {
	case r.status != s.h.status:
		return fmt.Errorf("%w: response %d: status %d, want %d", errVerify, s.seen+1, r.status, s.h.status)
	case r.close:
		return fmt.Errorf("%w: response %d: \"Connection: close\", but the server should keep the connection alive",
			errVerify, s.seen+1)
	case s.h.body != nil && !bytes.Equal(r.body, s.h.body):
		return fmt.Errorf("%w: response %d: body %s, want %q", errVerify, s.seen+1, loadExcerpt(r.body), s.h.body)
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

// loadHTTPResponse is what parseHTTPResponse reports of a response.
type loadHTTPResponse struct {
	status int
	body   []byte // aliases the parsed input
	close  bool   // a Connection field lists "close"
}

// parseHTTPResponse parses the response at the start of b. It returns the
// bytes the response takes, or 0 and a nil error when b holds only part of
// it; call it again from the same start once more has arrived. r means
// something only when n > 0; its body aliases b. It allocates nothing
// unless it fails.
//
// It is strict, as befits checking a server, and knows only what a GET
// can get back (RFC 9112):
//   - the status line is exactly "HTTP/1.1 NNN reason", the status from
//     200 to 599 (no interim 1xx: no request asks for one), the reason
//     (perhaps empty) of tabs, spaces, visible ASCII and obs-text bytes;
//   - every line ends in CRLF; a header field is a token, a colon and a
//     value of the same bytes as a reason, with no space before the colon
//     and no obs-fold;
//   - the status line and header section take at most loadHTTPMaxHeader
//     bytes;
//   - the body is framed by Content-Length alone: a Transfer-Encoding field
//     is refused, as are a missing Content-Length, one that is not all
//     digits, one over maxResponse and two that differ; 204 and 304 have
//     no body whatever Content-Length says (RFC 9110 §8.6).
//
// It looks at b from left to right and decides on a line as soon as its
// CRLF is there, so a prefix of b is either incomplete or gives what the
// whole gives.
func parseHTTPResponse(b []byte) (n int, r loadHTTPResponse, err error) {
	end, err := loadHTTPLineEnd(b, 0)
	if err != nil || end < 0 {
		return 0, r, err
	}
	if r.status, err = loadHTTPStatusLine(b[:end]); err != nil {
		return 0, r, err
	}
	clen := -1
	var clText []byte // the first Content-Length value
	i := end + 2
	for {
		end, err := loadHTTPLineEnd(b, i)
		if err != nil || end < 0 {
			return 0, r, err
		}
		line := b[i:end]
		i = end + 2
		if len(line) == 0 {
			break
		}
		name, value, err := loadHTTPField(line)
		if err != nil {
			return 0, r, err
		}
		switch {
		case loadFoldEqual(name, "content-length"):
			if clText != nil {
				if !bytes.Equal(value, clText) {
					return 0, r, fmt.Errorf("Content-Length %q and %q differ", clText, value)
				}
				continue
			}
			if clen, err = loadHTTPContentLength(value); err != nil {
				return 0, r, err
			}
			clText = value
		case loadFoldEqual(name, "transfer-encoding"):
			return 0, r, fmt.Errorf("Transfer-Encoding %q: only Content-Length bodies are read, "+
				"and pinion serves these routes with Content-Length", value)
		case loadFoldEqual(name, "connection"):
			r.close = r.close || loadHasToken(value, "close")
		}
	}
	if r.status == 204 || r.status == 304 {
		clen = 0
	} else if clen < 0 {
		return 0, r, fmt.Errorf("status %d without Content-Length", r.status)
	}
	if len(b)-i < clen {
		return 0, r, nil
	}
	r.body = b[i : i+clen : i+clen]
	return i + clen, r, nil
}

// loadHTTPLineEnd returns the index of the CR of the CRLF ending the line
// that starts at b[i], or -1 when b ends first. A line ending past
// loadHTTPMaxHeader or a LF without CR is an error.
func loadHTTPLineEnd(b []byte, i int) (int, error) {
	lf := bytes.IndexByte(b[i:], '\n')
	if lf < 0 {
		if len(b) >= loadHTTPMaxHeader {
			return -1, fmt.Errorf("header section over %d bytes", loadHTTPMaxHeader)
		}
		return -1, nil
	}
	lf += i
	switch {
	case lf+1 > loadHTTPMaxHeader:
		return -1, fmt.Errorf("header section over %d bytes", loadHTTPMaxHeader)
	case lf == i || b[lf-1] != '\r':
		return -1, fmt.Errorf("line %s ends in LF without CR", loadExcerpt(b[i:lf+1]))
	}
	return lf - 1, nil
}

// loadHTTPStatusLine parses a status line without its CRLF and returns the
// status.
func loadHTTPStatusLine(line []byte) (int, error) {
	const version = "HTTP/1.1 "
	if len(line) < len(version)+4 || string(line[:len(version)]) != version || line[len(version)+3] != ' ' {
		return 0, fmt.Errorf("malformed status line %s", loadExcerpt(line))
	}
	status := 0
	for _, c := range line[len(version) : len(version)+3] {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("malformed status code in %s", loadExcerpt(line))
		}
		status = status*10 + int(c-'0')
	}
	switch {
	case status < 100 || status > 599:
		return 0, fmt.Errorf("status %d out of range in %s", status, loadExcerpt(line))
	case status < 200:
		return 0, fmt.Errorf("interim response %d, which no request asked for", status)
	case !loadFieldText(line[len(version)+4:]):
		return 0, fmt.Errorf("reason phrase with a control byte in %s", loadExcerpt(line))
	}
	return status, nil
}

// loadHTTPField splits a header field line, without its CRLF, into its
// name and its value without the whitespace around it.
func loadHTTPField(line []byte) (name, value []byte, err error) {
	if line[0] == ' ' || line[0] == '\t' {
		return nil, nil, fmt.Errorf("obs-fold (a line starting with whitespace) at %s", loadExcerpt(line))
	}
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 {
		return nil, nil, fmt.Errorf("malformed header field %s", loadExcerpt(line))
	}
	name = line[:colon]
	for _, c := range name {
		if !loadTokenByte(c) {
			return nil, nil, fmt.Errorf("malformed header field name in %s", loadExcerpt(line))
		}
	}
	value = loadTrimOWS(line[colon+1:])
	if !loadFieldText(value) {
		return nil, nil, fmt.Errorf("header field value with a control byte in %s", loadExcerpt(line))
	}
	return name, value, nil
}

// loadHTTPContentLength parses a Content-Length value: digits, no more
// than maxResponse.
func loadHTTPContentLength(v []byte) (int, error) {
	if len(v) == 0 {
		return 0, fmt.Errorf("empty Content-Length")
	}
	n := 0
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("malformed Content-Length %s", loadExcerpt(v))
		}
		n = n*10 + int(c-'0')
		if n > maxResponse {
			return 0, fmt.Errorf("Content-Length %s over the %d bytes accepted", loadExcerpt(v), maxResponse)
		}
	}
	return n, nil
}

// loadHasToken reports whether the comma-separated list v holds token,
// which is lower case, in any case.
func loadHasToken(v []byte, token string) bool {
	for len(v) > 0 {
		item := v
		if i := bytes.IndexByte(v, ','); i >= 0 {
			item, v = v[:i], v[i+1:]
		} else {
			v = nil
		}
		if loadFoldEqual(loadTrimOWS(item), token) {
			return true
		}
	}
	return false
}

// loadFoldEqual reports whether b equals lower, which is lower-case ASCII,
// ignoring ASCII case.
func loadFoldEqual(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// loadTrimOWS returns b without the spaces and tabs (OWS) at either end.
func loadTrimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// loadFieldText reports whether b holds only tabs, spaces, visible ASCII
// and obs-text (RFC 9110 §5.5): no control byte.
func loadFieldText(b []byte) bool {
	for _, c := range b {
		if c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// loadTokenByte reports whether c may be in a token (RFC 9110 §5.6.2).
func loadTokenByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return c < 0x80 && strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
