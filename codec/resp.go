package codec

import "bytes"

// This file holds what the RESP command parser, the reply parser and the
// encoders share: limits, errors, line scanning and integer parsing.
//
// RESP (the Redis serialization protocol, version 2) is line oriented: every
// element starts with a type byte and ends with CRLF.
//
//	+OK\r\n                       simple string
//	-ERR unknown command\r\n      error
//	:1000\r\n                     integer
//	$3\r\nfoo\r\n                 bulk string ($-1\r\n is the null bulk)
//	*2\r\n$3\r\nGET\r\n$1\r\nk\r\n array of two bulks (*-1\r\n is the null array)
//
// The parsers are stateless: each call starts at the beginning of the
// buffer and either consumes one whole command or reply, reports that more
// input is needed (0 bytes used, nil error), or returns an error. They look
// at the bytes strictly left to right and stop at the first byte that
// proves the input bad, so any prefix of an input either is incomplete or
// yields exactly the result of the whole.

// Default limits of RESPLimits.
const (
	respDefaultMaxArgs   = 1024 * 1024
	respDefaultMaxBulk   = 64 << 20
	respDefaultMaxInline = 64 << 10

	// respMaxDepth is how deeply arrays may nest in a reply; the outermost
	// array is at depth 1.
	respMaxDepth = 32

	// respMaxNumber is the longest line an integer, a bulk length or an
	// array count may take: "-9223372036854775808" has 20 bytes.
	respMaxNumber = 20
)

// RESPLimits bound what the RESP parsers accept. Zero or negative fields
// take the defaults, and a nil *RESPLimits takes all of them. A RESPLimits
// is only read, so one may be shared by any number of goroutines.
type RESPLimits struct {
	// MaxArgs bounds the elements of one array: the arguments of a command
	// (array or inline), or the elements of one array in a reply.
	// Default 1024*1024.
	MaxArgs int
	// MaxBulk bounds the payload of one bulk string, in bytes. Default
	// 64 MiB (Redis allows 512 MiB).
	MaxBulk int
	// MaxInline bounds an inline command line, and the text of a simple
	// string or error reply, in bytes without the line ending. Default
	// 64 KiB.
	MaxInline int
}

// respLimits is a RESPLimits with the defaults filled in.
type respLimits struct {
	maxArgs, maxBulk, maxInline int
}

// resolve returns lim with the defaults applied; lim may be nil.
func (lim *RESPLimits) resolve() respLimits {
	l := respLimits{respDefaultMaxArgs, respDefaultMaxBulk, respDefaultMaxInline}
	if lim == nil {
		return l
	}
	if lim.MaxArgs > 0 {
		l.maxArgs = lim.MaxArgs
	}
	if lim.MaxBulk > 0 {
		l.maxBulk = lim.MaxBulk
	}
	if lim.MaxInline > 0 {
		l.maxInline = lim.MaxInline
	}
	return l
}

// RESPError reports malformed RESP input: bytes that can never become a
// valid command or reply. It wraps ErrCorrupt. A server answers it with
// "-ERR Protocol error: " + Reason and closes the connection, as Redis does.
type RESPError struct {
	Reason string // what is wrong, in Redis's words where Redis has some
}

// Error returns "codec: RESP protocol error: " followed by the reason.
func (e *RESPError) Error() string { return "codec: RESP protocol error: " + e.Reason }

// Unwrap returns ErrCorrupt, so errors.Is(err, ErrCorrupt) holds for every
// malformed input the codec package reports.
func (e *RESPError) Unwrap() error { return ErrCorrupt }

// The fixed RESP errors. They are never modified; returning them keeps the
// refusal of malformed input free of allocations.
var (
	errRESPMultibulkLen = &RESPError{Reason: "invalid multibulk length"}
	errRESPArrayLen     = &RESPError{Reason: "invalid array length"}
	errRESPBulkLen      = &RESPError{Reason: "invalid bulk length"}
	errRESPInteger      = &RESPError{Reason: "invalid integer"}
	errRESPCR           = &RESPError{Reason: "CR not followed by LF"}
	errRESPLF           = &RESPError{Reason: "LF without CR"}
	errRESPBulkEnd      = &RESPError{Reason: "bulk string not followed by CRLF (length mismatch)"}
	errRESPQuotes       = &RESPError{Reason: "unbalanced quotes in request"}
	errRESPDepth        = &RESPError{Reason: "arrays nested too deeply"}
)

// errRESPType reports an element whose type byte is c where want describes
// what was expected. It allocates, but only on the way to closing a
// connection.
func errRESPType(want string, c byte) error {
	return &RESPError{Reason: "expected " + want + ", got " + respQuoteByte(c)}
}

// respQuoteByte returns c in single quotes, escaped when it is not printable.
func respQuoteByte(c byte) string {
	const hex = "0123456789abcdef"
	if c >= ' ' && c <= '~' && c != '\'' && c != '\\' {
		return string([]byte{'\'', c, '\''})
	}
	return string([]byte{'\'', '\\', 'x', hex[c>>4], hex[c&15], '\''})
}

// respTooLarge returns the error for something of size bytes (or elements)
// over max.
func respTooLarge(what string, size int64, max int) error {
	return &FrameTooLargeError{What: what, Size: size, Max: max}
}

// respTooMany is respTooLarge for counts of elements.
func respTooMany(what string, count int64, max int) error {
	return &FrameTooLargeError{What: what, Size: count, Max: max, Unit: "elements"}
}

// respLineEnd finds the CRLF that ends the line starting at b[i] and
// returns the index of its CR. It returns -1 and a nil error when b ends
// before the line does. A line whose text is longer than max bytes is
// refused with errLong once max+1 bytes of it have arrived; when errLong
// is nil it is a *FrameTooLargeError naming what. RESP lines cannot hold
// a CR or an LF, so a CR followed by anything but LF, or an LF alone, is an
// error as soon as it is seen.
func respLineEnd(b []byte, i, max int, errLong error, what string) (int, error) {
	window := b[i:]
	if len(window) > max+1 {
		window = window[:max+1] // max bytes of text and the CR
	}
	cr := bytes.IndexByte(window, '\r')
	text := window
	if cr >= 0 {
		text = window[:cr]
	}
	if bytes.IndexByte(text, '\n') >= 0 {
		return 0, errRESPLF
	}
	switch {
	case cr >= 0 && i+cr+1 == len(b):
		return -1, nil // the LF has yet to arrive
	case cr >= 0 && b[i+cr+1] != '\n':
		return 0, errRESPCR
	case cr >= 0:
		return i + cr, nil
	case len(window) <= max:
		return -1, nil
	case errLong != nil:
		return 0, errLong
	default:
		return 0, respTooLarge(what, int64(max)+1, max)
	}
}

// ParseInt parses s as RESP writes integers, and as Redis reads integer
// values: an optional minus sign and decimal digits, without leading zeros
// (nor "-0"), within int64. It reports false for anything else, overflow
// included, and never allocates.
func ParseInt(s []byte) (int64, bool) {
	neg := len(s) > 0 && s[0] == '-'
	if neg {
		s = s[1:]
	}
	if len(s) == 0 || len(s) > 19 {
		return 0, false
	}
	if s[0] == '0' {
		return 0, len(s) == 1 && !neg
	}
	limit := uint64(1<<63 - 1)
	if neg {
		limit = 1 << 63
	}
	var n uint64
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (limit-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	if neg {
		return -int64(n), true // for n == 1<<63 this wraps to MinInt64, as wanted
	}
	return int64(n), true
}

// respNumber reads the number line starting at b[i] (just after a type
// byte). It returns the number and the index just past the line's CRLF, or
// next == -1 when the line is incomplete. Lines that are not a number give
// bad.
func respNumber(b []byte, i int, bad error) (n int64, next int, err error) {
	// The fast path takes what the slow one would, when it is the common
	// case: up to 18 digits (too few to overflow), no leading zero, CRLF.
	j := i
	for ; j < len(b) && j-i < 18 && '0' <= b[j] && b[j] <= '9'; j++ {
		n = n*10 + int64(b[j]-'0')
	}
	if j > i && j+1 < len(b) && b[j] == '\r' && b[j+1] == '\n' && (b[i] != '0' || j == i+1) {
		return n, j + 2, nil
	}
	end, err := respLineEnd(b, i, respMaxNumber, bad, "")
	if err != nil || end < 0 {
		return 0, -1, err
	}
	n, ok := ParseInt(b[i:end])
	if !ok {
		return 0, -1, bad
	}
	return n, end + 2, nil
}

// respBulkBody checks the payload of l bytes starting at b[i] and its
// CRLF. It returns the index just past the CRLF, or -1 when b ends first.
// When the bytes after the payload have arrived and are not CRLF, the
// declared length was wrong, which is an error as soon as it is seen.
func respBulkBody(b []byte, i int, l int64) (int, error) {
	avail := int64(len(b) - i)
	if avail > l && b[i+int(l)] != '\r' {
		return 0, errRESPBulkEnd
	}
	if avail > l+1 && b[i+int(l)+1] != '\n' {
		return 0, errRESPBulkEnd
	}
	if avail < l+2 {
		return -1, nil
	}
	return i + int(l) + 2, nil
}
