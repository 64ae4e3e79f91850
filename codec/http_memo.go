package codec

import "unsafe"

// RequestMemo remembers the last request that ResumeRequest parsed through
// it whole, as the bytes it consumed and what the parse found in them, so
// that a request made of the same bytes is taken from the memo after one
// comparison instead of being checked again. Clients repeat themselves on
// keep-alive connections (health checks, polling, pipelined load), and a
// server parsing for many connections on one loop sees the same request
// head over and over.
//
// The verdict cannot differ from a parse: a whole request's parse depends
// only on its bytes and the limits, so the memo is used only for a request
// that starts afresh (its RequestProgress is zero) under the limits it was
// made with, and holds only requests without a body, whose bytes end with
// their header section. Anything else is parsed.
//
// The zero value is ready to use and keeps requests up to
// DefaultRequestMemoBytes long. A RequestMemo belongs to one goroutine, for
// example one loop.
type RequestMemo struct {
	// MaxBytes is the longest request kept; 0 means
	// DefaultRequestMemoBytes, negative keeps none.
	MaxBytes int

	raw    []byte // the request's bytes; empty: nothing kept
	lim    httpLimits
	method span
	target span
	fields []memoField
	major  int
	minor  int
	keep   bool
}

// DefaultRequestMemoBytes is the longest request a zero RequestMemo keeps:
// enough for the request line and a few short fields; a browser's request,
// with its cookies and accept lists, is parsed every time.
const DefaultRequestMemoBytes = 256

// span is a slice of the request as offsets from its start.
type span struct{ at, end int32 }

func (s span) of(b []byte) []byte { return b[s.at:s.end:s.end] }

// memoField is one header field of the kept request.
type memoField struct{ name, value span }

// ResumeRequest is the package's ResumeRequest through m: the same
// results for the same arguments, from m when b starts with the bytes of
// the request m keeps and pr is zero, else parsed and, when the request
// has no body and is short enough, kept in place of the last one.
func (m *RequestMemo) ResumeRequest(b []byte, r *Request, lim *HTTPLimits, pr *RequestProgress) (int, error) {
	if m.holds(b, lim, pr) {
		m.fill(b, r)
		return len(m.raw), nil
	}
	n, err := ResumeRequest(b, r, lim, pr)
	if n > 0 {
		m.keepRequest(b[:n], r, lim)
	}
	return n, err
}

// holds reports whether b starts with the kept request, pr is fresh and
// lim resolves to the limits the kept request was parsed under.
func (m *RequestMemo) holds(b []byte, lim *HTTPLimits, pr *RequestProgress) bool {
	n := len(m.raw)
	return n > 0 && pr.seen == 0 && len(b) >= n && string(b[:n]) == string(m.raw) && lim.resolve() == m.lim
}

// fill sets r to the kept request, aliasing b, as the parse of b would.
func (m *RequestMemo) fill(b []byte, r *Request) {
	r.Reset()
	r.Method, r.Target = m.method.of(b), m.target.of(b)
	r.Major, r.Minor, r.KeepAlive = m.major, m.minor, m.keep
	if cap(r.Headers) < m.lim.maxHeaders {
		r.Headers = make([]Header, 0, m.lim.maxHeaders) // as the parse grows it, once
	}
	for _, f := range m.fields {
		r.Headers = append(r.Headers, Header{Name: f.name.of(b), Value: f.value.of(b)})
	}
}

// keepRequest keeps raw, the bytes of the request r was just parsed from
// under lim, when the memo may hold it; else it keeps what it had.
func (m *RequestMemo) keepRequest(raw []byte, r *Request, lim *HTTPLimits) {
	max := m.MaxBytes
	if max == 0 {
		max = DefaultRequestMemoBytes
	}
	if len(raw) > max || r.Body != nil || r.Chunked || r.ContentLength > 0 {
		return
	}
	m.fields = m.fields[:0]
	for _, h := range r.Headers {
		name, okName := offsetIn(raw, h.Name)
		value, okValue := offsetIn(raw, h.Value)
		if !okName || !okValue {
			m.raw = m.raw[:0]
			return
		}
		m.fields = append(m.fields, memoField{name, value})
	}
	method, okMethod := offsetIn(raw, r.Method)
	target, okTarget := offsetIn(raw, r.Target)
	if !okMethod || !okTarget {
		m.raw = m.raw[:0]
		return
	}
	m.raw = append(m.raw[:0], raw...)
	m.lim = lim.resolve()
	m.method, m.target = method, target
	m.major, m.minor, m.keep = r.Major, r.Minor, r.KeepAlive
}

// offsetIn returns where s lies in b, which it must alias, and false when it
// does not. The parser's slices of a request all alias the input, each
// capped at its end, so only their addresses tell where they are. An empty
// slice with no capacity points at the start of what it was cut from (Go
// does not advance a pointer past the end), so it gets offset 0 here and
// is cut the same way again by span.of.
func offsetIn(b, s []byte) (span, bool) {
	// Comparing the addresses of two live slices' first elements is
	// safe: neither is dereferenced, and both stay reachable.
	o := int(uintptr(unsafe.Pointer(unsafe.SliceData(s))) - uintptr(unsafe.Pointer(unsafe.SliceData(b))))
	if o < 0 || o+len(s) > len(b) {
		return span{}, false
	}
	return span{int32(o), int32(o + len(s))}, true
}
