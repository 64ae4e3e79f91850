package wiretest

import (
	"strconv"
	"strings"

	"github.com/pinion-net/pinion/codec"
)

// RESPCommands encodes commands as clients send them (arrays of bulk
// strings); each line is split on spaces.
func RESPCommands(lines ...string) []byte {
	var b []byte
	for _, l := range lines {
		var args [][]byte
		for _, a := range strings.Split(l, " ") {
			args = append(args, []byte(a))
		}
		b = codec.AppendCommand(b, args...)
	}
	return b
}

// RESPError, RESPBulk and RESPInt spell out replies.
func RESPError(msg string) string { return "-" + msg + "\r\n" }
func RESPBulk(s string) string    { return "$" + strconv.Itoa(len(s)) + "\r\n" + s + "\r\n" }
func RESPInt(n int) string        { return ":" + strconv.Itoa(n) + "\r\n" }

// Fixed replies.
const (
	RESPOK   = "+OK\r\n"
	RESPNull = "$-1\r\n"
)
