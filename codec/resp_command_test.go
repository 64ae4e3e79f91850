package codec

import (
	"bytes"
	"strings"
	"testing"
)

// respCommandTests are inputs to ParseCommand. A case with want parses into
// those arguments using n bytes (all of in when n is 0); one with err fails
// that way. Every case is also checked at every split position.
var respCommandTests = []struct {
	name string
	in   string
	lim  *RESPLimits
	want []string
	n    int
	err  *respWantErr
}{
	// Arrays of bulk strings.
	{name: "get", in: "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", want: []string{"GET", "k"}},
	{name: "set", in: "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n", want: []string{"SET", "key", "value"}},
	{name: "empty bulk", in: "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", want: []string{"ECHO", ""}},
	{name: "binary bulk", in: "*1\r\n$6\r\na\r\n\x00\xffb\r\n", want: []string{"a\r\n\x00\xffb"}},
	{name: "empty array", in: "*0\r\n", want: []string{}},
	{name: "null array", in: "*-1\r\n", want: []string{}},
	{name: "followed by more", in: "*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPI", want: []string{"PING"}, n: 14},
	{name: "args at the limit", in: "*2\r\n$3\r\nabc\r\n$0\r\n\r\n", lim: &RESPLimits{MaxArgs: 2, MaxBulk: 3}, want: []string{"abc", ""}},

	// Inline commands.
	{name: "inline crlf", in: "PING\r\n", want: []string{"PING"}},
	{name: "inline lf", in: "PING\n", want: []string{"PING"}},
	{name: "inline words", in: "  SET   k\tv \x0b\r\n", want: []string{"SET", "k", "v"}},
	{name: "inline inner cr", in: "a\rb\r\n", want: []string{"a", "b"}},
	{name: "inline binary", in: "\x00\xff x\n", want: []string{"\x00\xff", "x"}},
	{name: "blank line", in: "\r\n", want: []string{}},
	{name: "blank lf", in: "\nPING\n", want: []string{}, n: 1},
	{name: "spaces only", in: " \t \r\n", want: []string{}},
	{name: "inline at the limit", in: "12345678\r\n", lim: &RESPLimits{MaxInline: 8}, want: []string{"12345678"}},
	{name: "inline lf at the limit", in: "1234567\n", lim: &RESPLimits{MaxInline: 7}, want: []string{"1234567"}},
	{name: "not an array", in: "$3\r\nfoo\r\n", want: []string{"$3"}, n: 4},
	{name: "double quotes", in: "SET \"a b\" \"\"\r\n", want: []string{"SET", "a b", ""}},
	{name: "single quotes", in: "SET 'a \"b' 'it\\'s' '\\n'\r\n", want: []string{"SET", "a \"b", "it's", "\\n"}},
	{name: "escapes", in: "\"\\x41\\x7a\\n\\r\\t\\b\\a\\\\\\\"\\q\"\n", want: []string{"Az\n\r\t\b\a\\\"q"}},
	{name: "bad hex escape", in: "\"\\xZZ\\x4\"\n", want: []string{"xZZx4"}},
	{name: "quotes inside a word", in: "foo\"bar baz\" x'!'\n", want: []string{"foobar baz", "x!"}},
	{name: "quoted then more", in: "\"a\" b\r\n", want: []string{"a", "b"}},

	// Malformed arrays.
	{name: "integer in array", in: "*1\r\n:1\r\n", err: &respWantErr{reason: "expected '$', got ':'"}},
	{name: "nested array", in: "*1\r\n*1\r\n", err: &respWantErr{reason: "expected '$', got '*'"}},
	{name: "control byte in array", in: "*1\r\n\x00", err: &respWantErr{reason: "expected '$', got '\\x00'"}},
	{name: "payload too long", in: "*1\r\n$3\r\nfooXY", err: &respWantErr{reason: errRESPBulkEnd.Reason}},
	{name: "payload then cr alone", in: "*1\r\n$3\r\nfoo\rX", err: &respWantErr{reason: errRESPBulkEnd.Reason}},
	{name: "null bulk argument", in: "*1\r\n$-1\r\n", err: &respWantErr{reason: "invalid bulk length"}},
	{name: "negative bulk", in: "*1\r\n$-2\r\n", err: &respWantErr{reason: "invalid bulk length"}},
	{name: "negative count", in: "*-2\r\n", err: &respWantErr{reason: "invalid multibulk length"}},
	{name: "letters in count", in: "*x\r\n", err: &respWantErr{reason: "invalid multibulk length"}},
	{name: "trailing letter in count", in: "*1x\r\n", err: &respWantErr{reason: "invalid multibulk length"}},
	{name: "empty count", in: "*\r\n", err: &respWantErr{reason: "invalid multibulk length"}},
	{name: "leading zero", in: "*01\r\n", err: &respWantErr{reason: "invalid multibulk length"}},
	{name: "minus zero", in: "*-0\r\n", err: &respWantErr{reason: "invalid multibulk length"}},
	{name: "plus sign", in: "*+1\r\n", err: &respWantErr{reason: "invalid multibulk length"}},
	{name: "letters in length", in: "*1\r\n$abc\r\n", err: &respWantErr{reason: "invalid bulk length"}},
	{name: "space in length", in: "*1\r\n$ 3\r\n", err: &respWantErr{reason: "invalid bulk length"}},
	{name: "count overflow", in: "*99999999999999999999\r\n", err: &respWantErr{reason: "invalid multibulk length"}},
	{name: "count min int64", in: "*-9223372036854775808\r\n", err: &respWantErr{reason: "invalid multibulk length"}},
	{name: "count too long", in: "*123456789012345678901234\r\n", err: &respWantErr{reason: "invalid multibulk length"}},
	{name: "length overflow", in: "*1\r\n$99999999999999999999\r\n", err: &respWantErr{reason: "invalid bulk length"}},
	{name: "length too long", in: "*1\r\n$000000000000000000000000000", err: &respWantErr{reason: "invalid bulk length"}},
	{name: "cr without lf", in: "*1\rX", err: &respWantErr{reason: "CR not followed by LF"}},
	{name: "lf without cr", in: "*1\n", err: &respWantErr{reason: "LF without CR"}},
	{name: "lf in length", in: "*1\r\n$3\n", err: &respWantErr{reason: "LF without CR"}},

	// Over the limits, refused at the header.
	{name: "huge count", in: "*99999999999\r\n", err: &respWantErr{size: 99999999999, max: 1024 * 1024}},
	{name: "huge bulk", in: "*1\r\n$1099511627776\r\n", err: &respWantErr{size: 1 << 40, max: 64 << 20}},
	{name: "count over limit", in: "*3\r\n", lim: &RESPLimits{MaxArgs: 2}, err: &respWantErr{size: 3, max: 2}},
	{name: "bulk over limit", in: "*1\r\n$4\r\n", lim: &RESPLimits{MaxBulk: 3}, err: &respWantErr{size: 4, max: 3}},

	// Malformed or oversized inline commands.
	{name: "unterminated quote", in: "SET \"abc\r\n", err: &respWantErr{reason: "unbalanced quotes in request"}},
	{name: "unterminated single", in: "'abc\n", err: &respWantErr{reason: "unbalanced quotes in request"}},
	{name: "escape at the end", in: "\"abc\\\"\n", err: &respWantErr{reason: "unbalanced quotes in request"}},
	{name: "text after quote", in: "\"abc\"def\r\n", err: &respWantErr{reason: "unbalanced quotes in request"}},
	{name: "quote after quote", in: "\"a\"'b'\n", err: &respWantErr{reason: "unbalanced quotes in request"}},
	{name: "bad quote after good", in: "\"a\" \"b\"c\r\n", err: &respWantErr{reason: "unbalanced quotes in request"}},
	{name: "inline too long", in: "123456789\r\n", lim: &RESPLimits{MaxInline: 8}, err: &respWantErr{size: 9, max: 8}},
	{name: "inline too long lf", in: "12345678\n", lim: &RESPLimits{MaxInline: 7}, err: &respWantErr{size: 8, max: 7}},
	{name: "inline no newline", in: "1234567890", lim: &RESPLimits{MaxInline: 8}, err: &respWantErr{size: 9, max: 8}},
	{name: "inline too many args", in: "a b c\r\n", lim: &RESPLimits{MaxArgs: 2}, err: &respWantErr{size: 3, max: 2}},
}

func TestParseCommand(t *testing.T) {
	for _, tc := range respCommandTests {
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(tc.in)
			args, n, err := ParseCommand(bytes.Clone(in), []([]byte){[]byte("stale")}, tc.lim)
			respCheckError(t, in, err, tc.err)
			if tc.err == nil {
				wantN := tc.n
				if wantN == 0 {
					wantN = len(in)
				}
				got, want := respFormatArgs(args), respFormatArgs(respBytesList(tc.want))
				if n != wantN || got != want {
					t.Fatalf("ParseCommand(%q) = %s using %d bytes, want %s using %d", in, got, n, want, wantN)
				}
			}
			p := &respCommandParser{t: t, lim: tc.lim}
			respCheckSplits(t, in, p.parse)
		})
	}
}

// respBytesList converts strings to byte slices.
func respBytesList(s []string) [][]byte {
	out := make([][]byte, len(s))
	for i := range s {
		out[i] = []byte(s[i])
	}
	return out
}

// TestParseCommandAliases checks that arguments alias the input and that
// their capacity ends with them.
func TestParseCommandAliases(t *testing.T) {
	in := []byte("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n")
	args, _, err := ParseCommand(in, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if &args[0][0] != &in[8] || &args[1][0] != &in[17] {
		t.Fatalf("arguments do not alias the input")
	}
	for i, a := range args {
		if cap(a) != len(a) {
			t.Fatalf("argument %d: cap %d, want %d", i, cap(a), len(a))
		}
	}
}

// TestParseCommandPipelined parses commands sent back to back, of both
// forms and with empty ones between them, in one buffer.
func TestParseCommandPipelined(t *testing.T) {
	var in []byte
	var want []string
	for i := range 20 {
		switch i % 4 {
		case 0:
			in = AppendCommand(in, []byte("SET"), []byte("key"), bytes.Repeat([]byte{'v'}, i))
			want = append(want, respFormatArgs([][]byte{[]byte("SET"), []byte("key"), bytes.Repeat([]byte{'v'}, i)}))
		case 1:
			in = append(in, "GET key\r\n"...)
			want = append(want, `["GET" "key"]`)
		case 2:
			in = append(in, "*0\r\n\r\n"...)
			want = append(want, "[]", "[]")
		case 3:
			in = AppendCommand(in, []byte("PING"))
			want = append(want, `["PING"]`)
		}
	}
	var args [][]byte
	var got []string
	for b := in; len(b) > 0; {
		var n int
		var err error
		args, n, err = ParseCommand(b, args, nil)
		if err != nil || n == 0 {
			t.Fatalf("at offset %d: %d bytes, error %v", len(in)-len(b), n, err)
		}
		got = append(got, respFormatArgs(args))
		b = b[n:]
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("got  %v\nwant %v", got, want)
	}
}

// TestDecodeCommand feeds a Source one byte at a time and checks that
// DecodeCommand returns each non-empty command once, complete, skipping
// empty ones, and consumes exactly what it parsed.
func TestDecodeCommand(t *testing.T) {
	input := "*1\r\n$4\r\nPING\r\n\r\n*0\r\nGET k\n*2\r\n$4\r\nECHO\r\n$3\r\na b\r\n"
	want := []string{`["PING"]`, `["GET" "k"]`, `["ECHO" "a b"]`}
	src := &Bytes{}
	var args [][]byte
	var got []string
	for i := range len(input) {
		src.B = append(src.B, input[i])
		for {
			var ok bool
			var err error
			args, ok, err = DecodeCommand(src, args, nil)
			if err != nil {
				t.Fatalf("after %d bytes: %v", i+1, err)
			}
			if !ok {
				break
			}
			got = append(got, respFormatArgs(args))
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") || len(src.B) != 0 {
		t.Fatalf("got %v with %q left, want %v with nothing left", got, src.B, want)
	}

	src.B = []byte("*1\r\n:1\r\n")
	if _, ok, err := DecodeCommand(src, args, nil); ok || err == nil || len(src.B) != 8 {
		t.Fatalf("malformed: ok %v, error %v, %d bytes left; want false, an error, 8", ok, err, len(src.B))
	}
}

// TestParseCommandRoundTrip encodes random commands with AppendCommand and
// parses them back.
func TestParseCommandRoundTrip(t *testing.T) {
	rng := respRand()
	var buf []byte
	var args [][]byte
	for range 2000 {
		want := make([][]byte, rng.IntN(6))
		for i := range want {
			want[i] = respRandBytes(rng, rng.IntN(40))
		}
		buf = AppendCommand(buf[:0], want...)
		var n int
		var err error
		args, n, err = ParseCommand(buf, args, nil)
		if err != nil || n != len(buf) || respFormatArgs(args) != respFormatArgs(want) {
			t.Fatalf("ParseCommand(%q) = %s, %d, %v; want %s, %d, nil",
				buf, respFormatArgs(args), n, err, respFormatArgs(want), len(buf))
		}
	}
}

// TestParseCommandLeavesBadLine checks that an inline line that fails to
// parse is not unquoted in place.
func TestParseCommandLeavesBadLine(t *testing.T) {
	in := []byte("\"a\\x41\" 'b' \"c\n")
	b := bytes.Clone(in)
	if _, _, err := ParseCommand(b, nil, nil); err == nil {
		t.Fatal("no error")
	}
	if !bytes.Equal(b, in) {
		t.Fatalf("input changed to %q", b)
	}
}
