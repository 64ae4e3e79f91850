package codec

import (
	"bytes"
	"encoding/binary"
)

// This file holds the field lines of RFC 9112 §5, shared by the header and
// trailer sections, and the fields that frame a request: Host,
// Content-Length, Transfer-Encoding and Connection.

// The fixed field refusals; see the request-level ones in http_request.go.
var (
	errHTTPObsFold      = &HTTPError{400, "obsolete line folding"}
	errHTTPFieldColon   = &HTTPError{400, "field line without colon"}
	errHTTPFieldName    = &HTTPError{400, "invalid field name"}
	errHTTPFieldSpace   = &HTTPError{400, "whitespace between field name and colon"}
	errHTTPFieldCR      = &HTTPError{400, "CR without LF"}
	errHTTPFieldValue   = &HTTPError{400, "control character in field value"}
	errHTTPTooManyField = &HTTPError{431, "too many header fields"}
	errHTTPHosts        = &HTTPError{400, "more than one Host"}
	errHTTPHost         = &HTTPError{400, "invalid Host"}
	errHTTPCL           = &HTTPError{400, "malformed Content-Length"}
	errHTTPCLDigits     = &HTTPError{400, "Content-Length has too many digits"}
	errHTTPCLDiffer     = &HTTPError{400, "differing Content-Length values"}
	errHTTPTE           = &HTTPError{400, "malformed Transfer-Encoding"}
)

// httpMaxLengthDigits is how many significant digits a Content-Length may
// have: 18 digits always fit an int64, and no body we accept needs more.
const httpMaxLengthDigits = 18

// Byte classes as 128-bit sets: bit c of lo for c < 64, bit c-64 of hi for
// c < 128; bytes from 128 up are in no set.
const (
	// httpTchar is tchar (RFC 9110 §5.6.2), the bytes of a token.
	httpTcharLo = 1<<'!' | 1<<'#' | 1<<'$' | 1<<'%' | 1<<'&' | 1<<'\'' | 1<<'*' | 1<<'+' |
		1<<'-' | 1<<'.' | (1<<10-1)<<'0'
	httpTcharHi = (1<<26-1)<<('A'-64) | (1<<26-1)<<('a'-64) |
		1<<('^'-64) | 1<<('_'-64) | 1<<('`'-64) | 1<<('|'-64) | 1<<('~'-64)

	// httpRegName is unreserved and sub-delims (RFC 3986 §2.2, §2.3), the
	// bytes of a reg-name besides percent-encodings.
	httpRegNameLo = 1<<'!' | 1<<'$' | 1<<'&' | 1<<'\'' | 1<<'(' | 1<<')' | 1<<'*' | 1<<'+' |
		1<<',' | 1<<';' | 1<<'=' | 1<<'-' | 1<<'.' | (1<<10-1)<<'0'
	httpRegNameHi = (1<<26-1)<<('A'-64) | (1<<26-1)<<('a'-64) | 1<<('_'-64) | 1<<('~'-64)
)

// httpInSet reports whether c is in the set lo, hi (see httpTcharLo).
func httpInSet(c byte, lo, hi uint64) bool {
	if c < 64 {
		return lo>>c&1 != 0
	}
	return c < 128 && hi>>(c-64)&1 != 0
}

// httpIsTchar reports whether c is tchar.
func httpIsTchar(c byte) bool { return httpClass[c]&httpCTchar != 0 }

// httpIsToken reports whether b is a token: one or more tchar.
func httpIsToken(b []byte) bool {
	for _, c := range b {
		if !httpIsTchar(c) {
			return false
		}
	}
	return len(b) > 0
}

// httpFraming collects what the header fields say about framing and about
// the connection; frame decides once the header section has ended.
type httpFraming struct {
	host          bool  // a Host field was seen
	contentLength int64 // -1 when absent
	te            bool  // a Transfer-Encoding field was seen
	teChunked     bool  // chunked is listed
	teOther       bool  // a coding other than chunked is listed
	teMisplaced   bool  // a coding, chunked included, follows chunked
	close         bool  // Connection lists close
	keepAlive     bool  // Connection lists keep-alive
	expect        bool  // Expect is 100-continue
}

// fields checks the field lines of a section that started at b[base] and
// may use MaxHeaderBytes, from b[*checked] up to the empty line that ends
// them, and appends them to *dst; *count counts the section's fields,
// those of earlier calls included, and *checked moves past each line
// checked. With f non-nil (the header section) it records the fields that
// frame the request. It returns the offset after the empty line, or -1
// when b ends first.
func (p *httpParser) fields(base int, dst *[]Header, f *httpFraming, checked, count *int) (end int, e *HTTPError) {
	// Locals, written back once: kept in registers, not stored through
	// the pointers on every line.
	b, most := p.b, p.lim.maxHeaders
	hs, pos, n := p.growFields(*dst), *checked, *count
	limit := min(len(b), base+p.lim.maxHeaderBytes)
	for {
		// The Host line, which every HTTP/1.1 request has, in one pass
		// that checks its value while finding the line's end; anything
		// it does not take (a second Host, an IP literal, a
		// percent-encoding, a bad byte, the window's end) is left to the
		// general path below, which decides as always.
		if f != nil && !f.host && n < most && pos+len("host:") <= limit && httpIsHostName(b[pos:]) {
			if v, w, next := httpHostLine(b, pos+len("host:"), limit); next > 0 {
				n++
				hs = append(hs, Header{Name: b[pos : pos+4 : pos+4], Value: b[v:w:w]})
				f.host = true
				pos = next
				continue
			}
		}
		if pos+1 < limit && b[pos] == '\r' && b[pos+1] == '\n' {
			// The empty line that ends the section, as httpFieldLine
			// reads it.
			*dst, *checked, *count = hs, pos+2, n
			return pos + 2, nil
		}
		colon, v, w, next, err := httpFieldLine(b, pos, limit)
		switch {
		case err != nil:
			end, e = -1, err
		case next < 0:
			end, e = -1, p.short(base)
		case colon < 0:
			pos, end = next, next
		case n == most:
			end, e = -1, errHTTPTooManyField
		default:
			n++
			h := Header{Name: b[pos:colon:colon], Value: b[v:w:w]}
			hs = append(hs, h)
			if f != nil {
				e = f.field(h)
			}
			if e == nil {
				pos = next
				continue
			}
			end = -1
		}
		*dst, *checked, *count = hs, pos, n
		return end, e
	}
}

// splitFields appends to *dst the field lines from b[pos] up to the empty
// line that ends them, which an earlier call has checked, and returns the
// offset after that line. It only finds each line's end and colon.
func (p *httpParser) splitFields(pos int, dst *[]Header) int {
	b := p.b
	hs := p.growFields(*dst)
	for {
		nl := bytes.IndexByte(b[pos:], '\n')
		if nl == 1 {
			*dst = hs
			return pos + 2
		}
		if nl <= 0 {
			panic(httpProgressBroken)
		}
		line := b[pos : pos+nl-1]
		c := bytes.IndexByte(line, ':')
		if c < 0 {
			panic(httpProgressBroken)
		}
		hs = append(hs, Header{Name: line[:c:c], Value: httpTrimOWS(line[c+1:])})
		pos += nl + 1
	}
}

// growFields returns hs with room for MaxHeaders fields, so that appending
// them never allocates again.
func (p *httpParser) growFields(hs []Header) []Header {
	if cap(hs) < p.lim.maxHeaders {
		grown := make([]Header, len(hs), p.lim.maxHeaders)
		copy(grown, hs)
		return grown
	}
	return hs
}

// httpFieldLine checks field-name ":" OWS field-value OWS CRLF (RFC 9112
// §5), or the empty line that ends the section, at b[pos] in a window that
// ends at end, in one pass. The name is a token with nothing between it and
// the colon (§5.1: a server MUST reject whitespace there); a line that
// starts with whitespace is obs-fold, which §5.2 lets a server reject; the
// value holds no control character but HTAB (RFC 9110 §5.5). It returns
// the offset of the colon (-1 for the empty line), the value as b[v:w], and
// the offset after the line, or next -1 when the window ends before
// anything decides.
func httpFieldLine(b []byte, pos, end int) (colon, v, w, next int, e *HTTPError) {
	i := httpScanTchar(b, pos, end)
	if i == end {
		return 0, 0, 0, -1, nil
	}
	switch c := b[i]; {
	case c == ':' && i > pos:
	case c == '\r':
		if i+1 == end {
			return 0, 0, 0, -1, nil
		}
		switch {
		case b[i+1] != '\n':
			return 0, 0, 0, 0, errHTTPFieldCR
		case i == pos:
			return -1, 0, 0, i + 2, nil
		}
		return 0, 0, 0, 0, errHTTPFieldColon
	case c == '\n':
		return 0, 0, 0, 0, errHTTPBareLF
	case c == ' ' || c == '\t':
		if i == pos {
			return 0, 0, 0, 0, errHTTPObsFold
		}
		return 0, 0, 0, 0, errHTTPFieldSpace
	default:
		return 0, 0, 0, 0, errHTTPFieldName
	}
	v = i + 1
	for v < end && (b[v] == ' ' || b[v] == '\t') {
		v++
	}
	j := httpScanValue(b, v, end)
	if j == end {
		return 0, 0, 0, -1, nil
	}
	switch b[j] {
	case '\r':
		if j+1 == end {
			return 0, 0, 0, -1, nil
		}
		if b[j+1] != '\n' {
			return 0, 0, 0, 0, errHTTPFieldCR
		}
	case '\n':
		return 0, 0, 0, 0, errHTTPBareLF
	default:
		return 0, 0, 0, 0, errHTTPFieldValue
	}
	w = j
	for w > v && (b[w-1] == ' ' || b[w-1] == '\t') {
		w--
	}
	return i, v, w, j + 2, nil
}

// field records h when it is one of the fields that frame the request.
func (f *httpFraming) field(h Header) *HTTPError {
	switch len(h.Name) {
	case len("host"):
		// The name is tchar (httpFieldLine checked it), and among tchar
		// only a letter turns into a letter with bit 0x20 set: one word
		// compare is httpEqualFold(h.Name, "host").
		if binary.LittleEndian.Uint32(h.Name)|0x20202020 != 'h'|'o'<<8|'s'<<16|'t'<<24 {
			return nil
		}
		// RFC 9112 §3.2: 400 for more than one Host or an invalid one.
		if f.host {
			return errHTTPHosts
		}
		f.host = true
		if !httpValidHost(h.Value, false) {
			return errHTTPHost
		}
	case len("connection"):
		if httpEqualFold(h.Name, "connection") {
			f.connection(h.Value)
		}
	case len("content-length"):
		if httpEqualFold(h.Name, "content-length") {
			return f.contentLengthField(h.Value)
		}
	case len("transfer-encoding"):
		if httpEqualFold(h.Name, "transfer-encoding") {
			return f.transferEncoding(h.Value)
		}
	case len("expect"):
		if httpEqualFold(h.Name, "expect") && httpEqualFold(h.Value, "100-continue") {
			f.expect = true
		}
	}
	return nil
}

// connection records the close and keep-alive options of a Connection
// field, a list of case-insensitive tokens (RFC 9110 §7.6.1).
func (f *httpFraming) connection(v []byte) {
	for more := true; more; {
		var opt []byte
		opt, v, more = httpCutElement(v)
		switch {
		case httpEqualFold(opt, "close"):
			f.close = true
		case httpEqualFold(opt, "keep-alive"):
			f.keepAlive = true
		}
	}
}

// contentLengthField records a Content-Length field. RFC 9112 §6.3 allows
// a recipient to take a list of identical values ("42, 42"), or repeated
// fields with identical values, as that one value; anything else that is
// not 1*DIGIT is an error. Values are compared by number, so "042" and
// "42" agree.
func (f *httpFraming) contentLengthField(v []byte) *HTTPError {
	for more := true; more; {
		var elem []byte
		elem, v, more = httpCutElement(v)
		n, e := httpParseLength(elem)
		if e != nil {
			return e
		}
		if f.contentLength >= 0 && n != f.contentLength {
			return errHTTPCLDiffer
		}
		f.contentLength = n
	}
	return nil
}

// httpParseLength parses 1*DIGIT of at most httpMaxLengthDigits
// significant digits, so it cannot overflow.
func httpParseLength(d []byte) (int64, *HTTPError) {
	if len(d) == 0 {
		return 0, errHTTPCL
	}
	for len(d) > 1 && d[0] == '0' {
		d = d[1:]
	}
	var n int64
	for _, c := range d {
		if !httpIsDigit(c) {
			return 0, errHTTPCL
		}
		n = n*10 + int64(c-'0')
	}
	if len(d) > httpMaxLengthDigits {
		return 0, errHTTPCLDigits
	}
	return n, nil
}

// transferEncoding records a Transfer-Encoding field: a list of
// transfer-codings, each a token with optional parameters, continued by
// later Transfer-Encoding fields (RFC 9112 §6.1). frame decides what the
// list means.
func (f *httpFraming) transferEncoding(v []byte) *HTTPError {
	f.te = true
	for more := true; more; {
		var elem []byte
		elem, v, more = httpCutElement(v)
		if len(elem) == 0 {
			continue // RFC 9110 §5.6.1: empty list elements are ignored
		}
		name, params := elem, false
		if i := bytes.IndexByte(elem, ';'); i >= 0 {
			name, params = httpTrimOWS(elem[:i]), true
		}
		if !httpIsToken(name) {
			return errHTTPTE
		}
		if f.teChunked {
			f.teMisplaced = true
		}
		if httpEqualFold(name, "chunked") {
			if params {
				return errHTTPTE // chunked has no parameters
			}
			f.teChunked = true
		} else {
			f.teOther = true
		}
	}
	return nil
}

// httpCutElement returns the first element of the comma-separated list v,
// without the whitespace around it, and the rest of the list after the
// comma; more is false when there is no comma.
func httpCutElement(v []byte) (elem, rest []byte, more bool) {
	i := bytes.IndexByte(v, ',')
	if i < 0 {
		return httpTrimOWS(v), nil, false
	}
	return httpTrimOWS(v[:i]), v[i+1:], true
}

// httpTrimOWS returns b without leading and trailing SP and HTAB; the
// result's capacity ends with it.
func httpTrimOWS(b []byte) []byte {
	i, j := 0, len(b)
	for i < j && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	for j > i && (b[j-1] == ' ' || b[j-1] == '\t') {
		j--
	}
	return b[i:j:j]
}

// httpIsHostName reports whether b starts with "Host:", the name in any
// case. Among all byte values only the two cases of a letter turn into its
// lower case with bit 0x20 set, so one word compare is httpEqualFold.
func httpIsHostName(b []byte) bool {
	return binary.LittleEndian.Uint32(b)|0x20202020 == 'h'|'o'<<8|'s'<<16|'t'<<24 && b[4] == ':'
}

// httpHostLine reads the rest of a Host field line, from b[i] after the
// colon in a window that ends at end, when its value is a reg-name (an
// IPv4 address or a DNS name) with an optional port and the line ends
// within the window: OWS, the value, OWS, CRLF. It returns the value as
// b[v:w] and the offset after the line, or next -1 for any other line,
// which httpFieldLine and httpValidHost then decide. A line it takes is
// one they take, with the same value (TestHTTPHostLine).
func httpHostLine(b []byte, i, end int) (v, w, next int) {
	b = b[:end] // so that the loops need no bounds check
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	v = i
	// The reg-name eight bytes at a time while all are, then one by one.
	for i+8 <= len(b) {
		r := b[i : i+8 : i+8]
		if httpClass[r[0]]&httpClass[r[1]]&httpClass[r[2]]&httpClass[r[3]]&
			httpClass[r[4]]&httpClass[r[5]]&httpClass[r[6]]&httpClass[r[7]]&httpCRegName == 0 {
			break
		}
		i += 8
	}
	for i < len(b) && httpClass[b[i]]&httpCRegName != 0 {
		i++
	}
	if i < len(b) && b[i] == ':' {
		i++
		for i < len(b) && httpIsDigit(b[i]) {
			i++
		}
	}
	w = i
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	if i+1 < len(b) && b[i] == '\r' && b[i+1] == '\n' {
		return v, w, i + 2
	}
	return 0, 0, -1
}

// httpValidHost reports whether v is uri-host [ ":" port ] (RFC 9110 §7.2,
// RFC 3986 §3.2.2-3): an IP literal in brackets, or a reg-name (which
// covers IPv4 addresses) of unreserved, sub-delims and percent-encodings,
// and a port of digits. An empty v is a valid Host (for a target without
// an authority). needPort asks for the authority-form of CONNECT (RFC 9112
// §3.2.3): a non-empty host and a non-empty port.
func httpValidHost(v []byte, needPort bool) bool {
	i := 0
	if len(v) > 0 && v[0] == '[' {
		end := bytes.IndexByte(v, ']')
		if end < 2 {
			return false
		}
		for _, c := range v[1:end] {
			if httpClass[c]&httpCHex == 0 && c != ':' && c != '.' {
				return false
			}
		}
		i = end + 1
	} else {
		for i < len(v) {
			// The reg-name bytes four at a time while all are, then one
			// by one up to the first that is not.
			for r := v[i:]; len(r) >= 4; r = r[4:] {
				if httpClass[r[0]]&httpClass[r[1]]&httpClass[r[2]]&httpClass[r[3]]&httpCRegName == 0 {
					break
				}
				i += 4
			}
			for i < len(v) && httpClass[v[i]]&httpCRegName != 0 {
				i++
			}
			if i == len(v) || v[i] != '%' {
				break
			}
			if i+2 >= len(v) || httpClass[v[i+1]]&httpClass[v[i+2]]&httpCHex == 0 {
				return false
			}
			i += 3
		}
	}
	if i == len(v) {
		return !needPort
	}
	if v[i] != ':' || needPort && (i == 0 || i == len(v)-1) {
		return false
	}
	for _, c := range v[i+1:] {
		if !httpIsDigit(c) {
			return false
		}
	}
	return true
}
