package codec

import "bytes"

// This file holds the chunked transfer coding of RFC 9112 §7.1:
//
//	chunked-body   = *chunk last-chunk trailer-section CRLF
//	chunk          = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
//	last-chunk     = 1*("0") [ chunk-ext ] CRLF
//	chunk-ext      = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
//
// The body is parsed twice: a first pass checks the framing and finds its
// end without copying anything (resumable: a RequestProgress remembers how
// far it got); only a complete body is copied, once, into the Request's
// buffer.

// httpMaxChunkDigits is how many hex digits a chunk-size may have: 16 fit a
// uint64, and no chunk we accept needs more.
const httpMaxChunkDigits = 16

// The fixed chunked refusals.
var (
	errHTTPChunkSize     = &HTTPError{400, "missing chunk size"}
	errHTTPChunkDigits   = &HTTPError{400, "chunk size has too many digits"}
	errHTTPChunkExtLong  = &HTTPError{400, "chunk extensions too long"}
	errHTTPChunkExt      = &HTTPError{400, "malformed chunk extension"}
	errHTTPChunkCRLF     = &HTTPError{400, "chunk data not followed by CRLF"}
	errHTTPChunkTooLarge = &HTTPError{413, "chunked body over the limit"}
)

// chunked parses the chunked body that starts at the end of the header
// section, its trailer section included, sets r's Body and Trailers, and
// returns the offset after the body, or 0 when b ends first. It resumes
// where the progress says an earlier call stopped, and records in it each
// chunk line, chunk and trailer line as it is read whole. The chunk
// extensions, which are skipped, may together use MaxHeaderBytes; the
// trailer section is bounded like the header section.
func (p *httpParser) chunked(pr *RequestProgress) (int, *HTTPError) {
	if pr.chunkAt == 0 {
		pr.chunkAt, pr.extBudget = pr.body, p.lim.maxHeaderBytes
	}
	for !pr.trailers {
		if !pr.inData {
			size, next, e := p.chunkLine(pr.chunkAt, &pr.extBudget)
			if next < 0 || e != nil {
				return 0, e
			}
			if size == 0 {
				pr.chunkAt, pr.trailers = next, true
				break
			}
			if size > uint64(p.lim.maxBody-pr.total) {
				return 0, errHTTPChunkTooLarge
			}
			pr.chunkAt, pr.size, pr.inData = next, size, true
		}
		pos := pr.chunkAt
		if uint64(len(p.b)-pos) < pr.size+2 {
			return 0, nil
		}
		n := int(pr.size) // less than len(b)
		if p.b[pos+n] != '\r' || p.b[pos+n+1] != '\n' {
			return 0, errHTTPChunkCRLF
		}
		pr.total += int64(n)
		pr.chunkAt, pr.inData = pos+n+2, false
	}
	resumed := pr.trailerAt > 0
	if !resumed {
		pr.trailerAt = pr.chunkAt
	}
	end, e := p.fields(pr.chunkAt, &p.r.Trailers, nil, &pr.trailerAt, &pr.trailerCount)
	if end < 0 || e != nil {
		return 0, e
	}
	if resumed {
		// Only the lines checked now are in Trailers: split them all.
		p.r.Trailers = p.r.Trailers[:0]
		p.splitFields(pr.chunkAt, &p.r.Trailers)
	}
	p.dechunk(pr.body, int(pr.total))
	return end, nil
}

// chunkLine parses the chunk-size line at b[pos]: the size, and extensions
// that may use *budget bytes, which it lowers by what they use. next is the
// offset after the line, or -1 when b ends before it.
func (p *httpParser) chunkLine(pos int, budget *int) (size uint64, next int, e *HTTPError) {
	b := p.b[pos:]
	d := 0
	for d < len(b) && httpClass[b[d]]&httpCHex != 0 {
		if d == httpMaxChunkDigits {
			return 0, -1, errHTTPChunkDigits
		}
		size = size<<4 | httpHexVal(b[d])
		d++
	}
	if d == len(b) {
		return 0, -1, nil
	}
	if d == 0 {
		return 0, -1, errHTTPChunkSize
	}
	// The rest of the line is the extensions and CRLF; look no further
	// than they may reach, so a prefix and the whole decide alike.
	w := b[d:]
	if len(w) > *budget+2 {
		w = w[:*budget+2]
	}
	i := bytes.IndexByte(w, '\n')
	if i < 0 {
		if len(w) == *budget+2 {
			return 0, -1, errHTTPChunkExtLong
		}
		return 0, -1, nil
	}
	if i == 0 || w[i-1] != '\r' {
		return 0, -1, errHTTPBareLF
	}
	ext := w[:i-1]
	*budget -= len(ext)
	if !httpValidChunkExt(ext) {
		return 0, -1, errHTTPChunkExt
	}
	return size, pos + d + i + 1, nil
}

// dechunk copies the data of the chunked body at b[pos], which chunked has
// checked and found to hold total bytes, into r's buffer and sets r.Body.
func (p *httpParser) dechunk(pos, total int) {
	r := p.r
	if cap(r.body) < total {
		r.body = make([]byte, 0, total)
	}
	body := r.body[:0]
	for {
		size := 0
		for ; httpClass[p.b[pos]]&httpCHex != 0; pos++ {
			size = size<<4 | int(httpHexVal(p.b[pos]))
		}
		pos += bytes.IndexByte(p.b[pos:], '\n') + 1
		if size == 0 {
			break
		}
		body = append(body, p.b[pos:pos+size]...)
		pos += size + 2
	}
	r.body = body
	r.Body = body[:total:total]
}

// httpValidChunkExt reports whether e is chunk-ext, whose values are
// token / quoted-string.
func httpValidChunkExt(e []byte) bool {
	i := 0
	for i < len(e) {
		i = httpSkipWS(e, i)
		if i == len(e) || e[i] != ';' {
			return false
		}
		i = httpSkipWS(e, i+1)
		n := httpTokenLen(e[i:])
		if n == 0 {
			return false
		}
		i += n
		if j := httpSkipWS(e, i); j < len(e) && e[j] == '=' {
			i = httpSkipWS(e, j+1)
			if i < len(e) && e[i] == '"' {
				n = httpQuotedLen(e[i:])
			} else {
				n = httpTokenLen(e[i:])
			}
			if n == 0 {
				return false
			}
			i += n
		}
	}
	return true
}

// httpSkipWS returns the offset of the first byte from e[i] on that is not
// SP or HTAB.
func httpSkipWS(e []byte, i int) int {
	for i < len(e) && (e[i] == ' ' || e[i] == '\t') {
		i++
	}
	return i
}

// httpTokenLen returns the length of the token that starts e.
func httpTokenLen(e []byte) int {
	n := 0
	for n < len(e) && httpIsTchar(e[n]) {
		n++
	}
	return n
}

// httpQuotedLen returns the length of the quoted-string (RFC 9110 §5.6.4)
// that starts e, or 0 when e does not start with one.
func httpQuotedLen(e []byte) int {
	for i := 1; i < len(e); i++ {
		switch c := e[i]; {
		case c == '"':
			return i + 1
		case c == '\\':
			// quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
			i++
			if i == len(e) || e[i] < ' ' && e[i] != '\t' || e[i] == 0x7f {
				return 0
			}
		case c < ' ' && c != '\t' || c == 0x7f:
			return 0 // qdtext is any other visible byte, SP, HTAB or obs-text
		}
	}
	return 0
}
