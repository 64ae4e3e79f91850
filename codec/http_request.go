package codec

import (
	"bytes"
	"encoding/binary"
	"strconv"
)

// This file holds the HTTP/1.x request parser: limits, the Request type,
// the request line, and the framing decisions of RFC 9112 §6. Field lines
// are in http_field.go, the chunked coding in http_chunked.go.
//
// ParseRequest is stateless, like the RESP parsers: each call starts at the
// beginning of its input and either returns one whole request, reports that
// more input is needed (0, nil), or refuses the request. ResumeRequest
// gives the same answers, but carries a RequestProgress from one call to
// the next, so that the bytes of a request arriving in pieces are checked
// once, not once per piece.
//
// Both read the input strictly left to right, in one pass over each line
// (http_scan.go), and decide at the first byte that settles something: a
// line, a request line part or a field is refused at its first bad byte,
// even before its line has arrived whole. Such a decision rests only on
// the bytes before that point, so any prefix of an input is either
// incomplete or yields exactly the result of the whole. Limits are decided
// the same way: a header section that has used MaxHeaderBytes without
// ending, a chunk-size of too many digits, chunk extensions over their
// budget are refused as soon as the limit is reached, and no byte past it
// is looked at.

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
	// Field by field: the slices that keep their memory only shorten, and
	// no store is made twice.
	r.Method, r.Target, r.Body = nil, nil, nil
	r.Major, r.Minor = 0, 0
	r.Headers = r.Headers[:0]
	r.ContentLength = -1
	r.Chunked, r.KeepAlive = false, false
	r.Trailers = r.Trailers[:0]
	r.body = r.body[:0]
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
	errHTTPTargetNonASCII = &HTTPError{400, "non-ASCII byte in request target"}
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
// nothing unless n > 0, but for Method on a refusal: it holds the method
// when the request line got as far as the SP after it (else nil), so that a
// server leaves the body out of its answer to a HEAD request (RFC 9110
// §9.3.2).
//
// ParseRequest keeps nothing between calls, so a request that arrives in
// pieces is checked from its start on every call; a server that keeps a
// RequestProgress per connection calls ResumeRequest instead.
//
// It follows RFC 9112 strictly where leniency would let two parsers frame
// the same bytes differently: lines end with CRLF, field names are tokens
// with no whitespace before the colon, there is no line folding, a request
// has at most one framing (Content-Length or a chunked Transfer-Encoding),
// and an HTTP/1.1 request has exactly one Host. The request target is
// ASCII: visible characters, with percent signs starting a pct-encoding.
func ParseRequest(b []byte, r *Request, lim *HTTPLimits) (int, error) {
	var pr RequestProgress
	return ResumeRequest(b, r, lim, &pr)
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

// httpParser is the state of one parse: the input, the Request it fills
// and the limits. The progress it resumes from and records is passed
// apart: held in httpParser, whose input leaks into the Request, the
// compiler would have it leak too and move every caller's progress to the
// heap.
type httpParser struct {
	b   []byte
	r   *Request
	lim httpLimits
}

// request parses the whole request; see ParseRequest. When an earlier call
// has read the header section whole, the body alone decides whether the
// request is complete, and the header section is split again (without
// checking its bytes a second time) only once it is.
func (p *httpParser) request(pr *RequestProgress) (int, *HTTPError) {
	if pr.body == 0 {
		if e := p.head(pr); pr.body == 0 || e != nil {
			return 0, e
		}
	}
	end := pr.body
	switch {
	case pr.chunked:
		n, e := p.chunked(pr)
		if n == 0 || e != nil {
			return 0, e
		}
		end = n
	case pr.length >= 0:
		if pr.length > int64(len(p.b)-pr.body) {
			return 0, nil
		}
		end += int(pr.length)
		p.r.Body = p.b[pr.body:end:end]
	}
	if p.r.Method == nil {
		// The header section was checked by an earlier call.
		pos, _ := p.skipEmptyLines()
		p.splitHead(pos, pr.methodLen)
		_ = p.frame(&pr.framing) // checked before: it cannot fail
	}
	return end, nil
}

// head checks the request line and the header section, from where an
// earlier call stopped, and once the section is whole records its end and
// framing in pr and fills r's request line and Headers.
func (p *httpParser) head(pr *RequestProgress) *HTTPError {
	pos, e := p.skipEmptyLines()
	if pos < 0 || e != nil {
		return e
	}
	resumed := pr.checked > 0
	if resumed {
		// For a refusal's sake (see ParseRequest).
		p.r.Method = p.b[pos : pos+pr.methodLen : pos+pr.methodLen]
	} else {
		next, e := p.requestLine(pos, min(len(p.b), p.lim.maxHeaderBytes))
		if e != nil {
			return e
		}
		if next < 0 {
			return p.short(0)
		}
		pr.checked, pr.methodLen = next, len(p.r.Method)
		pr.framing = httpFraming{contentLength: -1}
	}
	end, e := p.fields(0, &p.r.Headers, &pr.framing, &pr.checked, &pr.count)
	if end < 0 || e != nil {
		return e
	}
	if resumed {
		// Only the lines checked now are in Headers: split them all.
		p.splitHead(pos, pr.methodLen)
	}
	if e := p.frame(&pr.framing); e != nil {
		return e
	}
	pr.body, pr.length, pr.chunked = end, p.r.ContentLength, p.r.Chunked
	pr.expect = pr.framing.expect && p.r.Minor == 1
	return nil
}

// splitHead fills r's request line and Headers from the request line at
// b[pos], whose method has methodLen bytes, and the header section after
// it, which earlier calls have checked whole.
func (p *httpParser) splitHead(pos, methodLen int) {
	r, b := p.r, p.b
	sp := pos + methodLen
	t := sp + 1
	v := t + bytes.IndexByte(b[t:], ' ') + 1
	if v == t || v+len("HTTP/1.1\r\n") > len(b) {
		panic(httpProgressBroken)
	}
	r.Method, r.Target = b[pos:sp:sp], b[t:v-1:v-1]
	r.Major, r.Minor = int(b[v+5]-'0'), int(b[v+7]-'0')
	r.Headers = r.Headers[:0]
	p.splitFields(v+len("HTTP/1.1\r\n"), &r.Headers)
}

// short is the answer when a scan of the section that started at b[base]
// reached the end of its window: 431 when the section has used its limit,
// else nil (wait for more).
func (p *httpParser) short(base int) *HTTPError {
	if len(p.b)-base >= p.lim.maxHeaderBytes {
		return errHTTPHeaderBytes
	}
	return nil
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

// requestLine checks method SP request-target SP HTTP-version CRLF (RFC
// 9112 §3) at b[pos], in a window that ends at end, and sets r's Method
// (as soon as the SP after it is seen), Target and version. It returns the
// offset after the line, or -1 when the window ends before anything
// decides.
func (p *httpParser) requestLine(pos, end int) (int, *HTTPError) {
	b := p.b
	if pos >= end {
		return -1, nil // the empty lines before it used the window
	}
	i := pos + len("GET")
	if pos+len("GET ") > end || binary.LittleEndian.Uint32(b[pos:]) != 'G'|'E'<<8|'T'<<16|' '<<24 {
		// Not the common method: scanned as a token.
		if i = httpScanTchar(b, pos, end); i == end {
			return -1, nil
		}
	}
	if b[i] != ' ' || i == pos {
		return httpRequestLineStop(b, i, end, i == pos, errHTTPMethod)
	}
	method := b[pos:i:i]
	p.r.Method = method
	t := i + 1
	j := t
	for {
		j = httpScanTarget(b, j, end)
		if j == end {
			return -1, nil
		}
		if b[j] != '%' {
			break
		}
		// A pct-encoding is decided by each of its hex digits as it comes.
		for k := j + 1; k <= j+2; k++ {
			if k == end {
				return -1, nil
			}
			if httpClass[b[k]]&httpCHex == 0 {
				return 0, errHTTPTargetPercent
			}
		}
		j += 3
	}
	switch c := b[j]; {
	case c == ' ' && j > t:
	case c >= 0x80:
		// RFC 9112 §3.2: the target is a URI, and URIs are ASCII (RFC
		// 3986 §2); a server answers an invalid request-line with 400.
		return 0, errHTTPTargetNonASCII
	default:
		return httpRequestLineStop(b, j, end, c == ' ', errHTTPTargetByte)
	}
	target := b[t:j:j]
	// Origin-form ("/...") needs no second look but for CONNECT, whose
	// target must be host:port.
	if target[0] != '/' || string(method) == "CONNECT" {
		if e := httpCheckTargetForm(method, target); e != nil {
			return 0, e
		}
	}
	v := j + 1
	const form = "HTTP/d.d\r\n"
	major, minor := 1, 1
	if v+len(form) > end || string(b[v:v+len(form)]) != "HTTP/1.1\r\n" {
		// Not the common case at once: each byte decides as it comes.
		for k := range len(form) {
			if v+k == end {
				return -1, nil
			}
			c := b[v+k]
			if c == form[k] || form[k] == 'd' && httpIsDigit(c) {
				continue
			}
			if c == '\n' && form[k] != '\n' {
				return 0, errHTTPBareLF
			}
			return 0, errHTTPVersion
		}
		major, minor = int(b[v+5]-'0'), int(b[v+7]-'0')
		if major != 1 || minor > 1 {
			return 0, errHTTPVersionSupport
		}
	}
	p.r.Target, p.r.Major, p.r.Minor = target, major, minor
	return v + len(form), nil
}

// httpRequestLineStop refuses the request line at b[i], a byte that ended
// a part of it too early or that the part cannot hold: a bare LF, a line
// that ends without its SPs (CRLF, or an SP right after another, empty),
// or else bad (a CR not followed by LF included). It waits when b[i] is a
// CR that ends the window.
func httpRequestLineStop(b []byte, i, end int, empty bool, bad *HTTPError) (int, *HTTPError) {
	switch b[i] {
	case '\n':
		return 0, errHTTPBareLF
	case '\r':
		if i+1 == end {
			return -1, nil
		}
		if b[i+1] == '\n' {
			return 0, errHTTPRequestLine
		}
	case ' ':
		if empty {
			return 0, errHTTPRequestLine
		}
	}
	return 0, bad
}

// httpCheckTargetForm checks that a request-target (RFC 9112 §3.2), whose
// bytes requestLine has checked, has the form the method calls for:
// authority-form (host:port) for CONNECT, asterisk-form only for OPTIONS,
// otherwise origin-form ("/...") or absolute-form ("scheme:..."). The URI
// inside is not validated further.
func httpCheckTargetForm(method, t []byte) *HTTPError {
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
	if !f.host && r.Minor == 1 {
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
