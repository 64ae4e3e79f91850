package codec

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
)

// respReplyTests are inputs to ParseReply. A case with want parses into the
// reply that respFormatReply shows as want, using n bytes (all of in when n
// is 0); one with err fails that way. Every case is also checked at every
// split position.
var respReplyTests = []struct {
	name string
	in   string
	lim  *RESPLimits
	want string
	n    int
	err  *respWantErr
}{
	{name: "simple", in: "+OK\r\n", want: `+"OK"`},
	{name: "empty simple", in: "+\r\n", want: `+""`},
	{name: "error", in: "-ERR unknown command 'foo'\r\n", want: `-"ERR unknown command 'foo'"`},
	{name: "zero", in: ":0\r\n", want: ":0"},
	{name: "negative", in: ":-1\r\n", want: ":-1"},
	{name: "max int", in: ":9223372036854775807\r\n", want: ":9223372036854775807"},
	{name: "min int", in: ":-9223372036854775808\r\n", want: ":-9223372036854775808"},
	{name: "bulk", in: "$3\r\nfoo\r\n", want: `$"foo"`},
	{name: "binary bulk", in: "$4\r\n\r\n\x00\xff\r\n", want: `$"\r\n\x00\xff"`},
	{name: "empty bulk", in: "$0\r\n\r\n", want: `$""`},
	{name: "null bulk", in: "$-1\r\n", want: "$null"},
	{name: "null array", in: "*-1\r\n", want: "*null"},
	{name: "empty array", in: "*0\r\n", want: "[]"},
	{name: "array", in: "*3\r\n$1\r\na\r\n:5\r\n+b\r\n", want: `[$"a" :5 +"b"]`},
	{name: "nested", in: "*2\r\n*1\r\n+a\r\n*0\r\n", want: `[[+"a"] []]`},
	{name: "nulls in array", in: "*3\r\n$-1\r\n*-1\r\n-E x\r\n", want: `[$null *null -"E x"]`},
	{name: "followed by more", in: "+OK\r\n+OK\r\n", want: `+"OK"`, n: 5},
	{name: "deepest", in: strings.Repeat("*1\r\n", 32) + ":1\r\n", want: strings.Repeat("[", 32) + ":1" + strings.Repeat("]", 32)},
	{name: "simple at the limit", in: "+1234\r\n", lim: &RESPLimits{MaxInline: 4}, want: `+"1234"`},
	{name: "array at the limit", in: "*2\r\n:1\r\n:2\r\n", lim: &RESPLimits{MaxArgs: 2}, want: "[:1 :2]"},

	{name: "unknown type", in: "?x\r\n", err: &respWantErr{reason: "expected a reply type ('+', '-', ':', '$' or '*'), got '?'"}},
	{name: "unknown type in array", in: "*1\r\n_\r\n", err: &respWantErr{reason: "expected a reply type ('+', '-', ':', '$' or '*'), got '_'"}},
	{name: "too deep", in: strings.Repeat("*1\r\n", 33) + ":1\r\n", err: &respWantErr{reason: "arrays nested too deeply"}},
	{name: "leading zero", in: ":01\r\n", err: &respWantErr{reason: "invalid integer"}},
	{name: "minus zero", in: ":-0\r\n", err: &respWantErr{reason: "invalid integer"}},
	{name: "empty integer", in: ":\r\n", err: &respWantErr{reason: "invalid integer"}},
	{name: "sign alone", in: ":-\r\n", err: &respWantErr{reason: "invalid integer"}},
	{name: "letter in integer", in: ":1a\r\n", err: &respWantErr{reason: "invalid integer"}},
	{name: "integer overflow", in: ":9223372036854775808\r\n", err: &respWantErr{reason: "invalid integer"}},
	{name: "integer underflow", in: ":-9223372036854775809\r\n", err: &respWantErr{reason: "invalid integer"}},
	{name: "integer 21 digits", in: ":123456789012345678901\r\n", err: &respWantErr{reason: "invalid integer"}},
	{name: "integer 30 digits", in: ":999999999999999999999999999999", err: &respWantErr{reason: "invalid integer"}},
	{name: "cr without lf", in: "+OK\rX", err: &respWantErr{reason: "CR not followed by LF"}},
	{name: "lf without cr", in: "+OK\n", err: &respWantErr{reason: "LF without CR"}},
	{name: "lf inside", in: "+a\nb\r\n", err: &respWantErr{reason: "LF without CR"}},
	{name: "negative bulk", in: "$-2\r\n", err: &respWantErr{reason: "invalid bulk length"}},
	{name: "bulk length mismatch", in: "$3\r\nfooo\r\n", err: &respWantErr{reason: errRESPBulkEnd.Reason}},
	{name: "bulk not crlf", in: "$3\r\nfoo\r\r", err: &respWantErr{reason: errRESPBulkEnd.Reason}},
	{name: "bulk length letters", in: "$x\r\n", err: &respWantErr{reason: "invalid bulk length"}},
	{name: "negative array", in: "*-2\r\n", err: &respWantErr{reason: "invalid array length"}},
	{name: "array count overflow", in: "*99999999999999999999\r\n", err: &respWantErr{reason: "invalid array length"}},

	{name: "huge array", in: "*99999999999\r\n", err: &respWantErr{size: 99999999999, max: 1024 * 1024}},
	{name: "huge bulk", in: "$1099511627776\r\n", err: &respWantErr{size: 1 << 40, max: 64 << 20}},
	{name: "nested huge bulk", in: "*2\r\n:1\r\n$1099511627776\r\n", err: &respWantErr{size: 1 << 40, max: 64 << 20}},
	{name: "array over limit", in: "*3\r\n", lim: &RESPLimits{MaxArgs: 2}, err: &respWantErr{size: 3, max: 2}},
	{name: "bulk over limit", in: "$4\r\n", lim: &RESPLimits{MaxBulk: 3}, err: &respWantErr{size: 4, max: 3}},
	{name: "simple over limit", in: "+12345\r\n", lim: &RESPLimits{MaxInline: 4}, err: &respWantErr{size: 5, max: 4}},
	{name: "error without end", in: "-123456789", lim: &RESPLimits{MaxInline: 4}, err: &respWantErr{size: 5, max: 4}},
}

func TestParseReply(t *testing.T) {
	for _, tc := range respReplyTests {
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(tc.in)
			r := Reply{Kind: RESPInteger, Int: 7, Null: true, Str: []byte("stale"), Elems: make([]Reply, 3)}
			n, err := ParseReply(in, &r, tc.lim)
			respCheckError(t, in, err, tc.err)
			if tc.err == nil {
				wantN := tc.n
				if wantN == 0 {
					wantN = len(in)
				}
				if got := respFormatReply(&r); n != wantN || got != tc.want {
					t.Fatalf("ParseReply(%q) = %s using %d bytes, want %s using %d", in, got, n, tc.want, wantN)
				}
			}
			respCheckSplits(t, in, func(b []byte) respOutcome { return respParseReplyOutcome(t, b, tc.lim) })
		})
	}
}

// TestParseReplyReuse parses replies of changing shapes into one Reply and
// checks that stale elements never show, and that the nested capacity of
// an earlier shape is reused.
func TestParseReplyReuse(t *testing.T) {
	var r Reply
	steps := []struct{ in, want string }{
		{"*2\r\n*3\r\n:1\r\n:2\r\n:3\r\n$1\r\nx\r\n", "[[:1 :2 :3] $\"x\"]"},
		{"*2\r\n$1\r\na\r\n*1\r\n+b\r\n", "[$\"a\" [+\"b\"]]"},
		{"*1\r\n*1\r\n:9\r\n", "[[:9]]"},
		{":4\r\n", ":4"},
		{"*3\r\n*0\r\n*-1\r\n$-1\r\n", "[[] *null $null]"},
	}
	for _, s := range steps {
		n, err := ParseReply([]byte(s.in), &r, nil)
		if got := respFormatReply(&r); err != nil || n != len(s.in) || got != s.want {
			t.Fatalf("ParseReply(%q) = %s, %d, %v; want %s, %d, nil", s.in, got, n, err, s.want, len(s.in))
		}
	}
	// The first step's inner array of three is still there, at capacity.
	if cap(r.Elems) < 3 || cap(r.Elems[:1][0].Elems) < 3 {
		t.Fatalf("capacity not kept: outer %d, inner %d", cap(r.Elems), cap(r.Elems[0].Elems))
	}
}

// TestParseReplyRoundTrip is the property test: random nested replies,
// encoded back to back with the Append functions, parse back into the same
// replies, and re-encoding what was parsed gives the same bytes.
func TestParseReplyRoundTrip(t *testing.T) {
	rng := respRand()
	var buf, again []byte
	var r Reply
	for range 500 {
		want := make([]Reply, 1+rng.IntN(4))
		buf = buf[:0]
		for i := range want {
			want[i] = respRandReply(rng, 1)
			buf = respAppendReply(buf, &want[i])
		}
		b := buf
		for i := range want {
			n, err := ParseReply(b, &r, nil)
			if err != nil || n == 0 {
				t.Fatalf("reply %d of %q: %d bytes, error %v", i, buf, n, err)
			}
			if got, w := respFormatReply(&r), respFormatReply(&want[i]); got != w {
				t.Fatalf("reply %d of %q: got %s, want %s", i, buf, got, w)
			}
			if again = respAppendReply(again[:0], &r); !bytes.Equal(again, b[:n]) {
				t.Fatalf("reply %d re-encoded as %q, parsed from %q", i, again, b[:n])
			}
			b = b[n:]
		}
		if len(b) != 0 {
			t.Fatalf("%q left over", b)
		}
	}
}

// respRandReply returns a random reply; arrays nest at most 5 deep.
func respRandReply(rng *rand.Rand, depth int) Reply {
	kinds := []RESPKind{RESPSimpleString, RESPErrorReply, RESPInteger, RESPBulkString, RESPArray}
	if depth >= 5 {
		kinds = kinds[:4]
	}
	r := Reply{Kind: kinds[rng.IntN(len(kinds))]}
	switch r.Kind {
	case RESPSimpleString, RESPErrorReply:
		r.Str = bytes.ReplaceAll(respRandBytes(rng, rng.IntN(20)), []byte("\r"), []byte(" "))
		r.Str = bytes.ReplaceAll(r.Str, []byte("\n"), []byte(" "))
	case RESPInteger:
		r.Int = int64(rng.Uint64())
		if rng.IntN(4) == 0 {
			r.Int = int64(rng.IntN(21)) - 10
		}
	case RESPBulkString:
		r.Null = rng.IntN(8) == 0
		if !r.Null {
			r.Str = respRandBytes(rng, rng.IntN(50))
		}
	case RESPArray:
		r.Null = rng.IntN(8) == 0
		if !r.Null {
			r.Elems = make([]Reply, rng.IntN(5))
			for i := range r.Elems {
				r.Elems[i] = respRandReply(rng, depth+1)
			}
		}
	}
	return r
}

// respAppendReply encodes r with the Append functions.
func respAppendReply(dst []byte, r *Reply) []byte {
	switch {
	case r.Kind == RESPSimpleString:
		return AppendSimple(dst, string(r.Str))
	case r.Kind == RESPErrorReply:
		return AppendError(dst, string(r.Str))
	case r.Kind == RESPInteger:
		return AppendInt(dst, r.Int)
	case r.Kind == RESPBulkString && r.Null:
		return AppendNull(dst)
	case r.Kind == RESPBulkString:
		return AppendBulk(dst, r.Str)
	case r.Kind == RESPArray && r.Null:
		return AppendNullArray(dst)
	case r.Kind == RESPArray:
		dst = AppendArrayHeader(dst, len(r.Elems))
		for i := range r.Elems {
			dst = respAppendReply(dst, &r.Elems[i])
		}
		return dst
	}
	panic("respAppendReply: unknown kind " + r.Kind.String())
}

func TestRESPKindString(t *testing.T) {
	for k, want := range map[RESPKind]string{
		RESPSimpleString: "simple string", RESPErrorReply: "error", RESPInteger: "integer",
		RESPBulkString: "bulk string", RESPArray: "array", '?': "RESPKind('?')",
	} {
		if got := k.String(); got != want {
			t.Errorf("RESPKind(%q).String() = %q, want %q", byte(k), got, want)
		}
	}
}
