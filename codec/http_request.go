package codec

import (
	"bytes"
	"strconv"
)

// This file holds the HTTP/1.x request parser: limits, the Request type,
// the request line, and the framing decisions of RFC 9112 §6. Field lines
// are in http_field.go, the chunked coding in http_chunked.go.
//
// ParseRequest is stateless, like the RESP parsers: each call starts at the
// beginning of its input and either returns one whole request, reports that
// more input is needed (0, nil), or refuses the request. It reads the input
// strictly left to right, one complete line at a time, and decides each
// line before looking at the next, so any prefix of an input is either
// incomplete or yields exactly the result of the whole. The only decisions
// made on a line not yet seen whole are limits (a header section that has
// used MaxHeaderBytes without ending, a chunk-size of too many digits,
// chunk extensions over their budget): they are refused at once, and the
// whole input refuses them the same way, before looking at the rest of the
// line.

// Default limits of HTTPLimits.
const (
	httpDefaultMaxHeaderBytes = 8 << 10
	httpDefaultMaxHeaders     = 64
	httpDefaultMaxBody        = 1 << 20

	// httpMaxEmptyLines is how many empty lines (CRLF) may precede a
	// request line. RFC 9112 §2.2 asks servers to ignore at least one, for
	// clients that send a CRLF after a POST body; a stream of them is not
	// a request.
	httpMaxEmptyLines = 4
)

// HTTPLimits bound a request. Zero or negative fields take the defaults,
// and a nil *HTTPLimits takes all of them. An HTTPLimits is only read, so
// one may be shared by any number of goroutines.
type HTTPLimits struct {
	// MaxHeaderBytes bounds the request line and header section, empty
	// lines before the request line and the final CRLF included, and
	// separately the trailer section of a chunked body. Default 8 KiB; a
	// request over it is refused with 431 as soon as that many bytes have
	// arrived without the end of the section.
	MaxHeaderBytes int
	// MaxHeaders bounds the header fields, and separately the trailer
	// fields. Default 64; more is refused with 431.
	MaxHeaders int
	// MaxBody bounds the body (after de-chunking). Default 1 MiB; more is
	// refused with 413, and a declared Content-Length over it is refused as
	// soon as the header section ends, without waiting for the body.
	MaxBody int64
}

// httpLimits is an HTTPLimits with the defaults filled in.
type httpLimits struct {
	maxHeaderBytes int
	maxHeaders     int
	maxBody        int64
}

// resolve returns lim with the defaults applied; lim may be nil.
func (lim *HTTPLimits) resolve() httpLimits {
	l := httpLimits{httpDefaultMaxHeaderBytes, httpDefaultMaxHeaders, httpDefaultMaxBody}
	if lim == nil {
		return l
	}
	if lim.MaxHeaderBytes > 0 {
		l.maxHeaderBytes = lim.MaxHeaderBytes
	}
	if lim.MaxHeaders > 0 {
		l.maxHeaders = lim.MaxHeaders
	}
	if lim.MaxBody > 0 {
		l.maxBody = lim.MaxBody
	}
	return l
}

// Header is one header or trailer field. Name is as received (compare it
// case-insensitively); Value has the optional whitespace around it removed.
type Header struct{ Name, Value []byte }

// Request is a parsed HTTP/1.0 or HTTP/1.1 request.
//
// Its byte slices alias the input given to ParseRequest and are valid until
// that input changes: for a loop.Conn, until the callback returns. The one
// exception is Body of a chunked request, which lives in a buffer the
// Request owns and reuses (it grows to the largest chunked body seen); it is
// valid until the next ParseRequest or Reset. Copy what must outlive that,
// for example before handing it to the offload pool. Every slice's capacity
// ends with it, so appending to one never overwrites what follows.
//
// A Request is owned by one goroutine. Reuse one for every request of a
// connection, or of a loop: after the first few requests parsing it
// allocates nothing.
type Request struct {
	Method []byte // a token, e.g. "GET"
	Target []byte // the request-target as sent, e.g. "/index.html?q=1"
	Major  int    // 1
	Minor  int    // 0 or 1

	// Headers are the header fields in the order received. The slice is
	// reused across ParseRequest calls; its capacity grows to MaxHeaders
	// once.
	Headers []Header
	// ContentLength is the declared Content-Length, or -1 when absent
	// (which includes chunked requests).
	ContentLength int64
	// Chunked reports Transfer-Encoding: chunked.
	Chunked bool
	// Body is the content: aliasing the input for Content-Length, in the
	// Request's own buffer for chunked requests, nil when the request has
	// neither.
	Body []byte
	// Trailers are the trailer fields of a chunked body, reused like
	// Headers.
	Trailers []Header
	// KeepAlive reports whether the connection may carry another request
	// after this one: for HTTP/1.1 unless a Connection header lists
	// "close", for HTTP/1.0 only when one lists "keep-alive" (and none
	// "close").
	KeepAlive bool

	// body holds the de-chunked content of chunked requests.
	body []byte
}

// Header returns the value of the first field named name, compared
// case-insensitively (ASCII), and whether there is one. It does not
// allocate. The value aliases the input like the Request's other slices.
func (r *Request) Header(name string) ([]byte, bool) {
	for _, h := range r.Headers {
		if httpEqualFold(h.Name, name) {
			return h.Value, true
		}
	}
	return nil, false
}

// Reset clears r for reuse, keeping the memory of Headers, Trailers and the
// chunk buffer. ParseRequest calls it first.
func (r *Request) Reset() {
	*r = Request{
		Headers:       r.Headers[:0],
		Trailers:      r.Trailers[:0],
		ContentLength: -1,
		body:          r.body[:0],
	}
}

// HTTPError is a request the server must refuse: it answers with Status
// (400, 413, 431, 501 or 505) and closes the connection, since the rest of
// the stream can no longer be framed. Reason says what was wrong, for logs;
// it is not the status line's reason phrase (that is StatusText(Status)).
type HTTPError struct {
	Status int
	Reason string
}

// Error returns "codec: HTTP <Status>: <Reason>".
func (e *HTTPError) Error() string {
	return "codec: HTTP " + strconv.Itoa(e.Status) + ": " + e.Reason
}

// Unwrap returns ErrCorrupt for a malformed request (Status 400), so
// errors.Is(err, ErrCorrupt) holds for it as for every malformed input the
// codec package reports; requests over a limit or beyond what is supported
// wrap nothing.
func (e *HTTPError) Unwrap() error {
	if e.Status == 400 {
		return ErrCorrupt
	}
	return nil
}

// The fixed request-level refusals. They are never modified; returning them
// keeps refusing a request free of allocations. Field-line and chunked
// refusals are beside their parsers.
var (
	errHTTPEmptyLines     = &HTTPError{400, "too many empty lines before the request line"}
	errHTTPBareLF         = &HTTPError{400, "line ends with LF without CR"}
	errHTTPRequestLine    = &HTTPError{400, "malformed request line"}
	errHTTPMethod         = &HTTPError{400, "invalid method"}
	errHTTPTargetByte     = &HTTPError{400, "invalid byte in request target"}
	errHTTPTargetPercent  = &HTTPError{400, "invalid percent-encoding in request target"}
	errHTTPTargetForm     = &HTTPError{400, "invalid request target"}
	errHTTPAsterisk       = &HTTPError{400, "asterisk-form target without OPTIONS"}
	errHTTPConnectTarget  = &HTTPError{400, "CONNECT target is not host:port"}
	errHTTPVersion        = &HTTPError{400, "malformed HTTP version"}
	errHTTPVersionSupport = &HTTPError{505, "only HTTP/1.0 and HTTP/1.1 are supported"}
	errHTTPHeaderBytes    = &HTTPError{431, "header section too large"}
	errHTTPMissingHost    = &HTTPError{400, "HTTP/1.1 request without Host"}
	errHTTPTEWithCL       = &HTTPError{400, "both Transfer-Encoding and Content-Length"}
	errHTTPTE10           = &HTTPError{400, "Transfer-Encoding in an HTTP/1.0 request"}
	errHTTPTEEmpty        = &HTTPError{400, "empty Transfer-Encoding"}
	errHTTPTEChunkedLast  = &HTTPError{400, "chunked is not the final transfer coding"}
	errHTTPTEUnsupported  = &HTTPError{501, "unsupported transfer coding"}
	errHTTPBodyTooLarge   = &HTTPError{413, "Content-Length over the limit"}
)

// ParseRequest parses one complete request (request line, header fields
// and body) from the start of b into r, which it resets first. It returns
// the number of bytes the request used; or 0 and a nil error when b holds
// only part of it (call again with more input, from the start); or an
// *HTTPError. Pipelined requests follow one another: parse the next one from
// b[n:]. See Request for how long r's slices stay valid; r's fields mean
// nothing unless n > 0.
//
// It follows RFC 9112 strictly where leniency would let two parsers frame
// the same bytes differently: lines end with CRLF, field names are tokens
// with no whitespace before the colon, there is no line folding, a request
// has at most one framing (Content-Length or a chunked Transfer-Encoding),
// and an HTTP/1.1 request has exactly one Host.
func ParseRequest(b []byte, r *Request, lim *HTTPLimits) (int, error) {
	l := lim.resolve()
	r.Reset()
	p := httpParser{b: b, r: r, lim: l}
	n, e := p.request()
	if e != nil {
		return 0, e
	}
	return n, nil
}

// DecodeRequest is ParseRequest on a Source. It reports whether a whole
// request was parsed into r, and on success discards the request's bytes
// from src. r's slices alias src's buffer: they stay valid after the
// Discard until the source's bytes change (see the package documentation).
func DecodeRequest(src Source, r *Request, lim *HTTPLimits) (bool, error) {
	n, err := ParseRequest(src.Peek(src.Buffered()), r, lim)
	if err != nil || n == 0 {
		return false, err
	}
	src.Discard(n)
	return true, nil
}

// httpParser is the state of one ParseRequest call.
type httpParser struct {
	b   []byte
	r   *Request
	lim httpLimits
}

// request parses the whole request; see ParseRequest.
func (p *httpParser) request() (int, *HTTPError) {
	pos, e := p.skipEmptyLines()
	if pos < 0 || e != nil {
		return 0, e
	}
	line, next, e := httpLineAt(p.b, pos, 0, p.lim.maxHeaderBytes)
	if next < 0 || e != nil {
		return 0, e
	}
	if e := p.requestLine(line); e != nil {
		return 0, e
	}
	f := httpFraming{contentLength: -1}
	pos, e = p.fields(next, 0, &p.r.Headers, &f)
	if pos < 0 || e != nil {
		return 0, e
	}
	if e := p.frame(&f); e != nil {
		return 0, e
	}
	switch {
	case p.r.Chunked:
		return p.chunked(pos)
	case p.r.ContentLength >= 0:
		if p.r.ContentLength > int64(len(p.b)-pos) {
			return 0, nil
		}
		end := pos + int(p.r.ContentLength)
		p.r.Body = p.b[pos:end:end]
		return end, nil
	}
	return pos, nil
}

// skipEmptyLines returns the offset of the request line after at most
// httpMaxEmptyLines CRLFs, or -1 when b ends before it.
func (p *httpParser) skipEmptyLines() (int, *HTTPError) {
	b := p.b
	pos := 0
	for {
		if pos == len(b) || b[pos] == '\r' && pos+1 == len(b) {
			return -1, nil
		}
		if b[pos] != '\r' || b[pos+1] != '\n' {
			return pos, nil
		}
		if pos == 2*httpMaxEmptyLines {
			return -1, errHTTPEmptyLines
		}
		pos += 2
	}
}

// httpLineAt finds the line that starts at b[pos] in a section that
// started at b[base] and may use limit bytes, its CRLFs included. It
// returns the line without its CRLF and the offset after it; next is -1
// when b ends before the line does. A section that has used limit bytes
// without the line ending is refused with 431 at once, before the line's
// bytes are looked at, and no byte past the limit is ever searched.
func httpLineAt(b []byte, pos, base, limit int) (line []byte, next int, e *HTTPError) {
	window := b[pos:]
	if room := max(base+limit-pos, 0); len(window) > room {
		window = window[:room]
	}
	i := bytes.IndexByte(window, '\n')
	if i < 0 {
		if len(b)-base >= limit {
			return nil, -1, errHTTPHeaderBytes
		}
		return nil, -1, nil
	}
	if i == 0 || window[i-1] != '\r' {
		return nil, -1, errHTTPBareLF
	}
	return window[: i-1 : i-1], pos + i + 1, nil
}

// requestLine parses method SP request-target SP HTTP-version (RFC 9112
// §3) into r.
func (p *httpParser) requestLine(line []byte) *HTTPError {
	sp := bytes.IndexByte(line, ' ')
	if sp <= 0 {
		return errHTTPRequestLine
	}
	method, rest := line[:sp:sp], line[sp+1:]
	if !httpIsToken(method) {
		return errHTTPMethod
	}
	sp = bytes.IndexByte(rest, ' ')
	if sp <= 0 {
		// No second SP, or a second SP right after the first: a request
		// line has exactly one SP between its parts.
		return errHTTPRequestLine
	}
	target, version := rest[:sp:sp], rest[sp+1:]
	if e := httpCheckTarget(method, target); e != nil {
		return e
	}
	if len(version) != len("HTTP/1.1") || string(version[:5]) != "HTTP/" ||
		!httpIsDigit(version[5]) || version[6] != '.' || !httpIsDigit(version[7]) {
		return errHTTPVersion
	}
	major, minor := int(version[5]-'0'), int(version[7]-'0')
	if major != 1 || minor > 1 {
		return errHTTPVersionSupport
	}
	p.r.Method, p.r.Target, p.r.Major, p.r.Minor = method, target, major, minor
	return nil
}

// httpCheckTarget checks a request-target (RFC 9112 §3.2): visible ASCII or
// obs-text, percent signs followed by two hex digits, and the form the
// method calls for: authority-form (host:port) for CONNECT, asterisk-form
// only for OPTIONS, otherwise origin-form ("/...") or absolute-form
// ("scheme:..."). The URI inside is not validated further.
func httpCheckTarget(method, t []byte) *HTTPError {
	for i := 0; i < len(t); i++ {
		c := t[i]
		if c <= ' ' || c == 0x7f {
			return errHTTPTargetByte
		}
		if c == '%' && (i+2 >= len(t) || !httpIsHex(t[i+1]) || !httpIsHex(t[i+2])) {
			return errHTTPTargetPercent
		}
	}
	switch {
	case string(method) == "CONNECT":
		if !httpValidHost(t, true) {
			return errHTTPConnectTarget
		}
	case t[0] == '/':
	case len(t) == 1 && t[0] == '*':
		if string(method) != "OPTIONS" {
			return errHTTPAsterisk
		}
	default:
		// scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then ":".
		i := 0
		for i < len(t) && (httpIsAlpha(t[i]) || i > 0 && (httpIsDigit(t[i]) || t[i] == '+' || t[i] == '-' || t[i] == '.')) {
			i++
		}
		if i == 0 || i == len(t) || t[i] != ':' {
			return errHTTPTargetForm
		}
	}
	return nil
}

// frame applies the framing rules of RFC 9112 §6 and the Host rule of
// §3.2 once the header section has ended, and sets r's ContentLength,
// Chunked and KeepAlive.
func (p *httpParser) frame(f *httpFraming) *HTTPError {
	r := p.r
	if f.hosts == 0 && r.Minor == 1 {
		return errHTTPMissingHost
	}
	if f.te {
		switch {
		case r.Minor == 0:
			// §6.1: a server MUST NOT assume an HTTP/1.0 recipient
			// understands chunked; a 1.0 request carrying it is broken.
			return errHTTPTE10
		case f.contentLength >= 0:
			return errHTTPTEWithCL
		case !f.teChunked && !f.teOther:
			return errHTTPTEEmpty
		case f.teMisplaced:
			return errHTTPTEChunkedLast
		case f.teOther:
			return errHTTPTEUnsupported
		}
		r.Chunked = true
	}
	if f.contentLength > p.lim.maxBody {
		return errHTTPBodyTooLarge
	}
	r.ContentLength = f.contentLength
	if r.Minor == 1 {
		r.KeepAlive = !f.close
	} else {
		r.KeepAlive = f.keepAlive && !f.close
	}
	return nil
}

// httpIsDigit reports whether c is DIGIT.
func httpIsDigit(c byte) bool { return '0' <= c && c <= '9' }

// httpIsAlpha reports whether c is ALPHA.
func httpIsAlpha(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

// httpIsHex reports whether c is HEXDIG (either case).
func httpIsHex(c byte) bool { return httpIsDigit(c) || 'a' <= c|0x20 && c|0x20 <= 'f' }

// httpHexVal returns the value of the hex digit c.
func httpHexVal(c byte) uint64 {
	if c <= '9' {
		return uint64(c - '0')
	}
	return uint64(c|0x20-'a') + 10
}

// httpEqualFold reports whether b and s are equal ignoring ASCII case.
func httpEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(s) {
		x, y := b[i], s[i]
		if x != y && (x|0x20 != y|0x20 || !httpIsAlpha(x)) {
			return false
		}
	}
	return true
}
