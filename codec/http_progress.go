package codec

// RequestProgress is what ResumeRequest learnt about a request that has
// not arrived whole, kept for the next call on the same connection so that
// no byte is checked twice: how far the request line and header fields
// have been checked, where the header section ended and how the body is
// framed, and how far a chunked body and its trailers have been walked.
//
// The zero value is a connection with no partial request. Keep one per
// connection (it is 128 bytes, and needed only while a request is
// partial: it is zero again after every whole or refused request), and
// pass it with the connection's unconsumed input, which must start with
// the same bytes as on the call before: the request they began, with more
// appended. An input shorter than the one seen last is taken as a new one,
// and the progress is dropped; one as long or longer whose start has
// changed is a bug of the caller's, which may panic.
type RequestProgress struct {
	seen      int         // len of the input at the last call
	checked   int         // header section: the end of the lines checked so far
	methodLen int         // the method's length, once the request line is checked
	count     int         // header fields checked
	framing   httpFraming // what those fields say about framing
	body      int         // the start of the body once the header section is whole, else 0
	length    int64       // the Content-Length once the header section is whole
	chunked   bool        // the body is chunked
	expect    bool        // an HTTP/1.1 request with Expect: 100-continue

	// A chunked body: chunkAt is the next chunk line to read, or the
	// start of the chunk data of size bytes when inData, or the trailer
	// section once trailers; total counts the data before chunkAt and
	// extBudget the bytes chunk extensions may still use. The trailer
	// section is checked up to trailerAt, trailerCount fields.
	chunkAt      int
	size         uint64
	total        int64
	extBudget    int
	trailerAt    int
	trailerCount int
	inData       bool
	trailers     bool
}

// httpProgressBroken is the panic of a ResumeRequest whose input does not
// hold the lines its RequestProgress says were checked: the caller broke
// the contract above, and nothing it parses can be trusted.
const httpProgressBroken = "codec: ResumeRequest input does not start with the bytes its RequestProgress checked"

// ResumeRequest is ParseRequest for a server that keeps a RequestProgress
// per connection: given the connection's unconsumed input b, from the
// start of the request, it parses as ParseRequest does but starts where
// the last call on pr stopped, so a request arriving in many pieces is
// checked once in all rather than once per piece. It returns the same
// results as ParseRequest(b, r, lim) in every case. After a whole request
// (n > 0) or a refusal pr is zero again, ready for the next request.
func ResumeRequest(b []byte, r *Request, lim *HTTPLimits, pr *RequestProgress) (int, error) {
	l := lim.resolve()
	r.Reset()
	if len(b) < pr.seen {
		*pr = RequestProgress{}
	}
	p := httpParser{b: b, r: r, lim: l}
	n, e := p.request(pr)
	if n > 0 || e != nil {
		*pr = RequestProgress{}
	} else {
		pr.seen = len(b)
	}
	if e != nil {
		return 0, e
	}
	return n, nil
}

// Partial reports whether pr holds the progress of a request that the last
// ResumeRequest call found incomplete, which a caller keeping one progress
// for many connections must save with the connection; false when pr is as
// good as zero. It is cheaper than comparing pr with the zero value.
func (pr *RequestProgress) Partial() bool { return pr.seen != 0 }

// ContinueDue reports whether the request the last ResumeRequest call
// waited on is an HTTP/1.1 request whose header section has arrived whole,
// with "Expect: 100-continue", and none of its body yet: the moment to
// send "100 Continue" (RFC 9110 §10.1.1), which such a client waits for
// before it sends the body.
func (pr *RequestProgress) ContinueDue() bool {
	return pr.expect && pr.seen == pr.body
}
