package codec

// This file holds the HTTP/1.x response parser, for clients: load
// generators, health checks, a proxy that reads its upstream. It shares the
// field-line grammar, the limits and the Content-Length rules with the
// request parser (http_field.go), and reads its input the same way: left
// to right, deciding at the first byte that settles something, so that any
// prefix of an input is either incomplete or gives exactly what the whole
// gives.

// Response is a parsed HTTP/1.0 or HTTP/1.1 response.
//
// Its byte slices alias the input given to ParseResponse and are valid until
// that input changes; every slice's capacity ends with it. A Response is
// owned by one goroutine; reuse one for every response of a connection, and
// after the first parsing it allocates nothing.
type Response struct {
	Major  int    // 1
	Minor  int    // 0 or 1
	Status int    // 100 to 599
	Reason []byte // the reason phrase, perhaps empty

	// Headers are the header fields in the order received. The slice is
	// reused across calls; its capacity grows to MaxHeaders once.
	Headers []Header
	// ContentLength is the declared Content-Length, or -1 when absent.
	ContentLength int64
	// Body is the content, aliasing the input; nil for a response that has
	// none (a 1xx, 204 or 304 response, one to a HEAD request, or a
	// Content-Length of 0).
	Body []byte
	// KeepAlive reports whether the connection may carry another exchange
	// after this one: for HTTP/1.1 unless a Connection header lists
	// "close", for HTTP/1.0 only when one lists "keep-alive" (and none
	// "close").
	KeepAlive bool
}

// Header returns the value of the first field named name, compared
// case-insensitively (ASCII), and whether there is one. It does not
// allocate.
func (r *Response) Header(name string) ([]byte, bool) {
	for _, h := range r.Headers {
		if httpEqualFold(h.Name, name) {
			return h.Value, true
		}
	}
	return nil, false
}

// The fixed response refusals, besides the field-line ones shared with the
// request parser.
var (
	errHTTPStatusLine    = &HTTPError{400, "malformed status line"}
	errHTTPStatusCode    = &HTTPError{400, "status code out of range"}
	errHTTPResponseTE    = &HTTPError{501, "Transfer-Encoding in a response is not supported"}
	errHTTPResponseClose = &HTTPError{501, "response without Content-Length (framed by the connection's close) is not supported"}
)

// ParseResponse parses one complete response (status line, header fields
// and body) from the start of b into r, which it resets first. It returns
// the number of bytes the response used; or 0 and a nil error when b holds
// only part of it (call again with more input, from the start); or an
// *HTTPError. Pipelined responses follow one another: parse the next one
// from b[n:]. A 1xx (interim) response is returned like any other, without
// a body; the final response follows it.
//
// lim bounds the response as it bounds a request (nil: the defaults):
// MaxHeaderBytes the status line and header section together, MaxHeaders
// the fields, and MaxBody the declared Content-Length, refused as soon as
// the header section ends. The error's Status classes the fault as for a
// request: 400 for malformed input (errors.Is(err, ErrCorrupt) holds), 413
// and 431 for a limit, 501 and 505 for what is not supported; it is not a
// status to answer.
//
// It is strict, as a client checking a server may be (RFC 9112): the
// status line is exactly HTTP-version SP 3DIGIT SP reason-phrase CRLF with
// HTTP/1.0 or HTTP/1.1; field lines follow the request parser's rules (no
// whitespace before the colon, no obs-fold, no bare LF); the body is framed
// by Content-Length alone. A response with Transfer-Encoding, and one with
// neither Content-Length nor a status that has no body (RFC 9112 §6.3: it
// runs until the connection closes), are refused as unsupported.
func ParseResponse(b []byte, r *Response, lim *HTTPLimits) (int, error) {
	n, e := parseResponse(b, r, lim, false)
	if e != nil {
		return 0, e
	}
	return n, nil
}

// ParseHeadResponse is ParseResponse for the response to a HEAD request,
// which has no body whatever its Content-Length says (RFC 9110 §9.3.2).
func ParseHeadResponse(b []byte, r *Response, lim *HTTPLimits) (int, error) {
	n, e := parseResponse(b, r, lim, true)
	if e != nil {
		return 0, e
	}
	return n, nil
}

// parseResponse is ParseResponse, returning the concrete error type so
// that a nil refusal is a nil error.
func parseResponse(b []byte, r *Response, lim *HTTPLimits, head bool) (int, *HTTPError) {
	hs := r.Headers[:0]
	*r = Response{Headers: hs, ContentLength: -1}
	p := httpParser{b: b, lim: lim.resolve()}
	pos, e := p.statusLine(r)
	if pos < 0 || e != nil {
		return 0, e
	}
	checked, count := pos, 0
	end, e := p.fields(0, &r.Headers, nil, &checked, &count)
	if end < 0 || e != nil {
		r.Headers = r.Headers[:0]
		return 0, e
	}
	f := httpFraming{contentLength: -1}
	for _, h := range r.Headers {
		switch {
		case httpEqualFold(h.Name, "content-length"):
			e = f.contentLengthField(h.Value)
		case httpEqualFold(h.Name, "transfer-encoding"):
			e = errHTTPResponseTE
		case httpEqualFold(h.Name, "connection"):
			f.connection(h.Value)
		}
		if e != nil {
			return 0, e
		}
	}
	r.ContentLength = f.contentLength
	r.KeepAlive = !f.close && (r.Minor == 1 || f.keepAlive)
	if head || r.Status < 200 || r.Status == 204 || r.Status == 304 {
		return end, nil
	}
	switch {
	case f.contentLength < 0:
		return 0, errHTTPResponseClose
	case f.contentLength > p.lim.maxBody:
		return 0, errHTTPBodyTooLarge
	case f.contentLength > int64(len(b)-end):
		return 0, nil
	case f.contentLength > 0:
		stop := end + int(f.contentLength)
		r.Body = b[end:stop:stop]
		end = stop
	}
	return end, nil
}

// httpStatusLineForm is the fixed part of a status line: "HTTP/", a digit,
// ".", a digit, SP, three digits and SP; 'd' stands for a digit.
const httpStatusLineForm = "HTTP/d.d ddd "

// statusLine checks the status line at the start of p.b and fills r's
// version, status and reason. It returns the offset after its CRLF, or -1
// when b ends (or MaxHeaderBytes is used up) first.
func (p *httpParser) statusLine(r *Response) (int, *HTTPError) {
	b := p.b
	limit := min(len(b), p.lim.maxHeaderBytes)
	for i := range len(httpStatusLineForm) {
		if i == limit {
			return -1, p.short(0)
		}
		want, c := httpStatusLineForm[i], b[i]
		if want == 'd' && !httpIsDigit(c) || want != 'd' && c != want {
			return -1, errHTTPStatusLine
		}
		switch i {
		case 7:
			r.Major, r.Minor = int(b[5]-'0'), int(c-'0')
			if r.Major != 1 || r.Minor > 1 {
				return -1, errHTTPVersionSupport
			}
		case 9:
			if c < '1' || c > '5' {
				return -1, errHTTPStatusCode
			}
		}
	}
	r.Status = int(b[9]-'0')*100 + int(b[10]-'0')*10 + int(b[11]-'0')
	from := len(httpStatusLineForm)
	j := httpScanValue(b, from, limit)
	switch {
	case j == limit || b[j] == '\r' && j+1 == limit:
		return -1, p.short(0)
	case b[j] == '\n':
		return -1, errHTTPBareLF
	case b[j] != '\r':
		return -1, errHTTPStatusLine
	case b[j+1] != '\n':
		return -1, errHTTPFieldCR
	}
	r.Reason = b[from:j:j]
	return j + 2, nil
}
