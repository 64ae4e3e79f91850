package codec

import (
	"slices"
	"strconv"
)

// The RESP encoders append one reply (or command) to dst and return the
// extended slice, like strconv.AppendInt. They allocate only when dst lacks
// the room, so a connection's reused output buffer makes them free.

// AppendSimple appends the simple string s: "+" s CRLF. A simple string
// cannot hold a line break, so each CR or LF in s is written as a space.
func AppendSimple(dst []byte, s string) []byte {
	dst = append(dst, '+')
	return respAppendLine(dst, s)
}

// AppendError appends the error reply msg: "-" msg CRLF. By convention msg
// starts with an upper-case code word, as in "ERR unknown command" or
// "WRONGTYPE Operation against a key holding the wrong kind of value".
// Each CR or LF in msg is written as a space.
func AppendError(dst []byte, msg string) []byte {
	dst = append(dst, '-')
	return respAppendLine(dst, msg)
}

// respAppendLine appends s with its CRs and LFs made spaces, then CRLF.
func respAppendLine(dst []byte, s string) []byte {
	start := len(dst)
	dst = append(dst, s...)
	for i := start; i < len(dst); i++ {
		if dst[i] == '\r' || dst[i] == '\n' {
			dst[i] = ' '
		}
	}
	return append(dst, '\r', '\n')
}

// AppendInt appends the integer reply n: ":" n CRLF.
func AppendInt(dst []byte, n int64) []byte {
	dst = append(dst, ':')
	dst = strconv.AppendInt(dst, n, 10)
	return append(dst, '\r', '\n')
}

// AppendBulk appends b as a bulk string: "$" len(b) CRLF b CRLF. A nil b
// is the empty string; AppendNull writes the null bulk.
func AppendBulk(dst []byte, b []byte) []byte {
	dst = slices.Grow(dst, len(b)+respMaxNumber+5)
	dst = respAppendHeader(dst, '$', int64(len(b)))
	dst = append(dst, b...)
	return append(dst, '\r', '\n')
}

// AppendBulkString appends s as a bulk string, as AppendBulk does.
func AppendBulkString(dst []byte, s string) []byte {
	dst = slices.Grow(dst, len(s)+respMaxNumber+5)
	dst = respAppendHeader(dst, '$', int64(len(s)))
	dst = append(dst, s...)
	return append(dst, '\r', '\n')
}

// AppendNull appends the null bulk string, "$-1" CRLF, Redis's answer for
// a missing key.
func AppendNull(dst []byte) []byte {
	return append(dst, "$-1\r\n"...)
}

// AppendArrayHeader appends the header of an array of n elements,
// "*" n CRLF; the caller appends the n elements after it. A negative n
// writes the null array, as AppendNullArray does.
func AppendArrayHeader(dst []byte, n int) []byte {
	if n < 0 {
		return AppendNullArray(dst)
	}
	return respAppendHeader(dst, '*', int64(n))
}

// AppendNullArray appends the null array, "*-1" CRLF.
func AppendNullArray(dst []byte) []byte {
	return append(dst, "*-1\r\n"...)
}

// AppendCommand appends a command as clients send it: an array of the args
// as bulk strings. ParseCommand reads it back.
func AppendCommand(dst []byte, args ...[]byte) []byte {
	size := respMaxNumber + 3
	for _, a := range args {
		size += len(a) + respMaxNumber + 5
	}
	dst = slices.Grow(dst, size)
	dst = respAppendHeader(dst, '*', int64(len(args)))
	for _, a := range args {
		dst = respAppendHeader(dst, '$', int64(len(a)))
		dst = append(dst, a...)
		dst = append(dst, '\r', '\n')
	}
	return dst
}

// respAppendHeader appends a type byte, the decimal n and CRLF.
func respAppendHeader(dst []byte, kind byte, n int64) []byte {
	dst = append(dst, kind)
	dst = strconv.AppendInt(dst, n, 10)
	return append(dst, '\r', '\n')
}
