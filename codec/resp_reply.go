package codec

// RESPKind is the type of a RESP reply: its type byte.
type RESPKind byte

// The kinds of RESP replies.
const (
	RESPSimpleString RESPKind = '+' // +OK
	RESPErrorReply   RESPKind = '-' // -ERR unknown command
	RESPInteger      RESPKind = ':' // :1
	RESPBulkString   RESPKind = '$' // $3 foo, or the null bulk $-1
	RESPArray        RESPKind = '*' // *2 followed by two replies, or the null array *-1
)

// String returns the kind's name, such as "simple string".
func (k RESPKind) String() string {
	switch k {
	case RESPSimpleString:
		return "simple string"
	case RESPErrorReply:
		return "error"
	case RESPInteger:
		return "integer"
	case RESPBulkString:
		return "bulk string"
	case RESPArray:
		return "array"
	}
	return "RESPKind(" + respQuoteByte(byte(k)) + ")"
}

// Reply is one parsed RESP reply.
//
// Str aliases the input ParseReply was given and is valid as long as it
// is; its capacity ends with it. Elems is reused: ParseReply reslices it
// (and, recursively, the Elems of the replies in it) instead of allocating,
// so parsing replies of the same shape into the same Reply allocates only
// the first time, and nested arrays keep their capacity at each position.
type Reply struct {
	Kind  RESPKind
	Str   []byte  // simple string, error text or bulk payload; nil for the null bulk
	Int   int64   // integer replies
	Null  bool    // the null bulk ($-1) or the null array (*-1)
	Elems []Reply // array elements; empty for the null array
}

// ParseReply parses one reply of any kind from the start of b into r,
// arrays nested up to 32 deep included. It returns the bytes used, or 0
// and a nil error when b holds only part of a reply; call it again, from
// the same start, once more input has arrived.
//
// Every field of r is overwritten, except that the capacity of r.Elems is
// kept for reuse; after an incomplete parse or an error r holds nothing
// meaningful. Malformed input gives a *RESPError: an unknown type byte, a
// missing CRLF, a non-canonical number (leading zeros, "-0", a sign alone,
// more than int64 holds), a negative length other than -1, a bulk payload
// not followed by CRLF, arrays nested deeper than 32. Input over lim gives
// a *FrameTooLargeError as soon as the header proving it has arrived: an
// array count over MaxArgs, a bulk length over MaxBulk, a simple string or
// error text over MaxInline.
func ParseReply(b []byte, r *Reply, lim *RESPLimits) (int, error) {
	l := lim.resolve()
	n, err := respParseReply(b, 0, r, &l, 1)
	if err != nil || n < 0 {
		return 0, err
	}
	return n, nil
}

// respParseReply parses the reply starting at b[i] into r, an element at the
// given depth (the top level is 1). It returns the index just past the
// reply, or -1 when b ends first.
func respParseReply(b []byte, i int, r *Reply, l *respLimits, depth int) (int, error) {
	if i == len(b) {
		return -1, nil
	}
	*r = Reply{Kind: RESPKind(b[i]), Elems: r.Elems[:0]}
	switch r.Kind {
	case RESPSimpleString, RESPErrorReply:
		what := "RESP simple string"
		if r.Kind == RESPErrorReply {
			what = "RESP error"
		}
		end, err := respLineEnd(b, i+1, l.maxInline, nil, what)
		if err != nil || end < 0 {
			return -1, err
		}
		r.Str = b[i+1 : end : end]
		return end + 2, nil
	case RESPInteger:
		n, next, err := respNumber(b, i+1, errRESPInteger)
		r.Int = n
		return next, err
	case RESPBulkString:
		return respParseBulkReply(b, i, r, l)
	case RESPArray:
		if depth > respMaxDepth {
			return -1, errRESPDepth
		}
		return respParseArrayReply(b, i, r, l, depth)
	}
	return -1, errRESPType("a reply type ('+', '-', ':', '$' or '*')", b[i])
}

// respParseBulkReply parses the bulk string whose '$' is b[i].
func respParseBulkReply(b []byte, i int, r *Reply, l *respLimits) (int, error) {
	size, start, err := respNumber(b, i+1, errRESPBulkLen)
	switch {
	case err != nil || start < 0:
		return -1, err
	case size == -1:
		r.Null = true
		return start, nil
	case size < 0:
		return -1, errRESPBulkLen
	case size > int64(l.maxBulk):
		return -1, respTooLarge("RESP bulk string", size, l.maxBulk)
	}
	next, err := respBulkBody(b, start, size)
	if err != nil || next < 0 {
		return -1, err
	}
	end := start + int(size)
	r.Str = b[start:end:end]
	return next, nil
}

// respParseArrayReply parses the array whose '*' is b[i], at the given depth.
// It grows r.Elems one element at a time as elements arrive, never to the
// declared count, so what it allocates is bounded by the input.
func respParseArrayReply(b []byte, i int, r *Reply, l *respLimits, depth int) (int, error) {
	count, next, err := respNumber(b, i+1, errRESPArrayLen)
	switch {
	case err != nil || next < 0:
		return -1, err
	case count == -1:
		r.Null = true
		return next, nil
	case count < 0:
		return -1, errRESPArrayLen
	case count > int64(l.maxArgs):
		return -1, respTooMany("RESP array", count, l.maxArgs)
	}
	for range count {
		// Reslicing within capacity finds the Reply that was there before,
		// with its own Elems, which respParseReply keeps. r.Elems is updated
		// as it grows, so what was allocated stays even on failure.
		if len(r.Elems) < cap(r.Elems) {
			r.Elems = r.Elems[:len(r.Elems)+1]
		} else {
			r.Elems = append(r.Elems, Reply{})
		}
		next, err = respParseReply(b, next, &r.Elems[len(r.Elems)-1], l, depth+1)
		if err != nil || next < 0 {
			return -1, err
		}
	}
	return next, nil
}
