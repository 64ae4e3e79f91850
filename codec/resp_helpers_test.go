package codec

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// respOutcome is the result of one parse, in a comparable form: the
// arguments or the reply, the bytes used, and the error's text.
type respOutcome struct {
	val string // the arguments or the reply, formatted; "" when incomplete or failed
	n   int
	err string
}

func (o respOutcome) incomplete() bool { return o.n == 0 && o.err == "" }

func (o respOutcome) String() string {
	switch {
	case o.err != "":
		return "error " + strconv.Quote(o.err)
	case o.incomplete():
		return "incomplete"
	}
	return fmt.Sprintf("%s using %d bytes", o.val, o.n)
}

// respFormatArgs formats arguments as a Go-quoted list.
func respFormatArgs(args [][]byte) string {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = strconv.Quote(string(a))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// respFormatReply formats a reply as kind and contents, arrays recursively.
func respFormatReply(r *Reply) string {
	switch {
	case r.Null:
		return string(r.Kind) + "null"
	case r.Kind == RESPInteger:
		return ":" + strconv.FormatInt(r.Int, 10)
	case r.Kind == RESPArray:
		parts := make([]string, len(r.Elems))
		for i := range r.Elems {
			parts[i] = respFormatReply(&r.Elems[i])
		}
		return "[" + strings.Join(parts, " ") + "]"
	}
	return string(r.Kind) + strconv.Quote(string(r.Str))
}

// respCommandParser parses commands for the split checks, reusing its
// buffers from one parse to the next.
type respCommandParser struct {
	t    testing.TB
	lim  *RESPLimits
	b    []byte
	args [][]byte
}

// parse parses a private copy of in (ParseCommand may unquote in place)
// and checks that the bytes it did not use are untouched.
func (p *respCommandParser) parse(in []byte) respOutcome {
	p.t.Helper()
	p.b = append(p.b[:0], in...)
	b := p.b
	args, n, err := ParseCommand(b, p.args, p.lim)
	p.args = args
	if !bytes.Equal(b[n:], in[n:]) {
		p.t.Fatalf("ParseCommand(%q) changed bytes it did not use: %q", in, b)
	}
	if err != nil {
		respCheckErrorType(p.t, in, err)
		if n != 0 || len(args) != 0 {
			p.t.Fatalf("ParseCommand(%q) = %d bytes, %d args with error %v; want 0, 0", in, n, len(args), err)
		}
		return respOutcome{err: err.Error()}
	}
	if n < 0 || n > len(in) || (n == 0 && len(args) != 0) {
		p.t.Fatalf("ParseCommand(%q) = %d bytes, %d args", in, n, len(args))
	}
	if n == 0 {
		return respOutcome{}
	}
	return respOutcome{val: respFormatArgs(args), n: n}
}

// respParseReplyOutcome parses in as a reply.
func respParseReplyOutcome(t testing.TB, in []byte, lim *RESPLimits) respOutcome {
	t.Helper()
	var r Reply
	n, err := ParseReply(in, &r, lim)
	if err != nil {
		respCheckErrorType(t, in, err)
		if n != 0 {
			t.Fatalf("ParseReply(%q) = %d bytes with error %v; want 0", in, n, err)
		}
		return respOutcome{err: err.Error()}
	}
	if n < 0 || n > len(in) {
		t.Fatalf("ParseReply(%q) = %d bytes", in, n)
	}
	if n == 0 {
		return respOutcome{}
	}
	return respOutcome{val: respFormatReply(&r), n: n}
}

// respCheckErrorType fails unless err is a *RESPError wrapping ErrCorrupt
// or a *FrameTooLargeError.
func respCheckErrorType(t testing.TB, in []byte, err error) {
	t.Helper()
	var re *RESPError
	var fe *FrameTooLargeError
	switch {
	case errors.As(err, &re):
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("parsing %q: %v does not wrap ErrCorrupt", in, err)
		}
	case errors.As(err, &fe):
		if fe.Size <= int64(fe.Max) {
			t.Fatalf("parsing %q: %v: size within the limit", in, err)
		}
	default:
		t.Fatalf("parsing %q: error %v (%T) is neither *RESPError nor *FrameTooLargeError", in, err, err)
	}
}

// respCheckSplits parses prefixes of in with parse (every one, or about 64
// spread over a long input, plus those around the end of what parses) and
// checks them against parsing all of in: a prefix shorter than a command
// or reply that parses is incomplete and a longer one gives the same
// result; when in is malformed, each prefix is incomplete or fails the same
// way, and once one fails all longer ones do. It returns the outcome for
// all of in.
func respCheckSplits(t testing.TB, in []byte, parse func([]byte) respOutcome) respOutcome {
	t.Helper()
	full := parse(in)
	failedAt := -1
	var splits []int
	for k := 0; k < len(in); k += max(1, len(in)/64) { // long inputs stay quick
		splits = append(splits, k)
	}
	if full.n > 0 {
		splits = append(splits, full.n-1, full.n)
	}
	slices.Sort(splits)
	for _, k := range slices.Compact(splits) {
		if k >= len(in) {
			break
		}
		got := parse(in[:k])
		switch {
		case full.err == "" && k < full.n && !got.incomplete():
			t.Fatalf("prefix %q of %q: got %v, want incomplete", in[:k], in, got)
		case full.err == "" && k >= full.n && got != full:
			t.Fatalf("prefix %q of %q: got %v, want %v", in[:k], in, got, full)
		case full.err != "" && !got.incomplete() && got != full:
			t.Fatalf("prefix %q of %q: got %v, want incomplete or %v", in[:k], in, got, full)
		case full.err != "" && got.incomplete() && failedAt >= 0:
			t.Fatalf("prefix %q of %q is incomplete, but the shorter prefix %q failed", in[:k], in, in[:failedAt])
		case got.err != "" && failedAt < 0:
			failedAt = k
		}
	}
	return full
}

// respWantErr describes an expected error: a *RESPError with the reason
// reason, or when reason is empty a *FrameTooLargeError of size over max.
type respWantErr struct {
	reason string
	size   int64
	max    int
}

// respCheckError fails unless err is the error want describes, or nil when
// want is nil.
func respCheckError(t *testing.T, in []byte, err error, want *respWantErr) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("parsing %q: unexpected error %v", in, err)
		}
		return
	}
	if want.reason != "" {
		var re *RESPError
		if !errors.As(err, &re) || re.Reason != want.reason {
			t.Fatalf("parsing %q: error %v, want *RESPError with reason %q", in, err, want.reason)
		}
		return
	}
	var fe *FrameTooLargeError
	if !errors.As(err, &fe) || fe.Size != want.size || fe.Max != want.max {
		t.Fatalf("parsing %q: error %v, want *FrameTooLargeError of %d over %d", in, err, want.size, want.max)
	}
}

// respRand returns the fixed-seed generator of the property tests.
func respRand() *rand.Rand { return rand.New(rand.NewPCG(1, 2)) }

// respRandBytes returns n random bytes, drawn mostly from the bytes that
// matter to RESP: CR, LF, quotes, spaces, type bytes and digits.
func respRandBytes(rng *rand.Rand, n int) []byte {
	const special = "\r\n \t\"'\\*$+-:0123456789xa"
	b := make([]byte, n)
	for i := range b {
		if rng.IntN(2) == 0 {
			b[i] = special[rng.IntN(len(special))]
		} else {
			b[i] = byte(rng.UintN(256))
		}
	}
	return b
}
