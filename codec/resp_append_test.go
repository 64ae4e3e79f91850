package codec

import (
	"math"
	"testing"
)

func TestRESPAppend(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"simple", AppendSimple(nil, "OK"), "+OK\r\n"},
		{"simple empty", AppendSimple(nil, ""), "+\r\n"},
		{"simple line breaks", AppendSimple(nil, "a\r\nb\nc"), "+a  b c\r\n"},
		{"error", AppendError(nil, "ERR unknown command"), "-ERR unknown command\r\n"},
		{"error line breaks", AppendError(nil, "ERR\r\n+OK"), "-ERR  +OK\r\n"},
		{"int", AppendInt(nil, 1), ":1\r\n"},
		{"int zero", AppendInt(nil, 0), ":0\r\n"},
		{"int min", AppendInt(nil, math.MinInt64), ":-9223372036854775808\r\n"},
		{"bulk", AppendBulk(nil, []byte("foo")), "$3\r\nfoo\r\n"},
		{"bulk nil", AppendBulk(nil, nil), "$0\r\n\r\n"},
		{"bulk binary", AppendBulk(nil, []byte("a\r\n\x00")), "$4\r\na\r\n\x00\r\n"},
		{"bulk string", AppendBulkString(nil, "hello"), "$5\r\nhello\r\n"},
		{"null", AppendNull(nil), "$-1\r\n"},
		{"array header", AppendArrayHeader(nil, 2), "*2\r\n"},
		{"array header zero", AppendArrayHeader(nil, 0), "*0\r\n"},
		{"array header negative", AppendArrayHeader(nil, -3), "*-1\r\n"},
		{"null array", AppendNullArray(nil), "*-1\r\n"},
		{"command", AppendCommand(nil, []byte("GET"), []byte("k")), "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"},
		{"command empty", AppendCommand(nil), "*0\r\n"},
		{"appends", AppendInt([]byte("+OK\r\n"), 5), "+OK\r\n:5\r\n"},
	}
	for _, tc := range tests {
		if string(tc.got) != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}
