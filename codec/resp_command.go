package codec

import "bytes"

// ParseCommand parses one RESP command from the start of b: either an array
// of bulk strings ("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"), which is what clients
// send, or an inline command ("GET k\r\n"), a line of arguments separated by
// white space, which is what people type into telnet. Input is inline
// exactly when it does not start with '*'; an inline line ends with LF or
// CRLF.
//
// It appends the arguments to args[:0] and returns them with the number of
// bytes the command used. The arguments alias b; each one's capacity ends
// with it, so appending to an argument never overwrites the input. When b
// holds only part of a command, ParseCommand returns 0 bytes used and a nil
// error: call it again, from the same start, once more input has arrived.
//
// An empty command uses bytes but yields no arguments: a blank inline line,
// "*0\r\n" or "*-1\r\n". Redis ignores them; so should the caller, and go
// on with the rest of the input (DecodeCommand skips them itself).
//
// Malformed input gives a *RESPError. Input over lim gives a
// *FrameTooLargeError: an array count over MaxArgs or a bulk length over
// MaxBulk as soon as its header line has arrived, before any of the
// declared bytes are waited for or allocated; an inline line as soon as
// more than MaxInline bytes of it arrived without a newline. After an error
// the connection cannot be resynchronized and should be closed.
//
// Inline arguments may be quoted as Redis does: "..." with the escapes
// \n \r \t \b \a \\ \" and \xHH, or '...' with \'; a closing quote must be
// followed by a space or the end of the line. An argument with quotes is
// unquoted in place: ParseCommand writes its unescaped bytes over the
// quoted ones in the line it consumes, and touches b nowhere else (never
// when it returns an error, nor when the line has no quotes).
//
// ParseCommand does not allocate unless args must grow. It parses from the
// start on every call, so a command arriving in many small reads is scanned
// again each time; its size is bounded by the limits.
func ParseCommand(b []byte, args [][]byte, lim *RESPLimits) ([][]byte, int, error) {
	args = args[:0]
	if len(b) == 0 {
		return args, 0, nil
	}
	l := lim.resolve()
	var n int
	var err error
	if b[0] == '*' {
		args, n, err = respParseMultibulk(b, args, &l)
	} else {
		args, n, err = respParseInline(b, args, &l)
	}
	if err != nil || n <= 0 {
		return args[:0], 0, err
	}
	return args, n, nil
}

// DecodeCommand is ParseCommand on a Source. It returns the next non-empty
// command and true after discarding its bytes from src; empty commands
// before it are discarded and skipped. It returns false and a nil error
// when src holds no complete command yet, and false and an error for input
// that can never become one. The arguments alias the source's buffer and
// stay valid as long as those bytes do (see the package documentation):
// for a loop.Conn, until the OnData callback returns.
func DecodeCommand(src Source, args [][]byte, lim *RESPLimits) ([][]byte, bool, error) {
	for {
		var n int
		var err error
		args, n, err = ParseCommand(src.Peek(-1), args, lim)
		if err != nil || n == 0 {
			return args, false, err
		}
		src.Discard(n)
		if len(args) > 0 {
			return args, true, nil
		}
	}
}

// respParseMultibulk parses a command sent as an array of bulk strings; b[0]
// is '*'. It returns the bytes used, 0 when b is incomplete.
func respParseMultibulk(b []byte, args [][]byte, l *respLimits) ([][]byte, int, error) {
	count, i, err := respNumber(b, 1, errRESPMultibulkLen)
	if err != nil || i < 0 {
		return args, 0, err
	}
	switch {
	case count < -1:
		return args, 0, errRESPMultibulkLen
	case count > int64(l.maxArgs):
		return args, 0, respTooMany("RESP command array", count, l.maxArgs)
	}
	for range count { // no iterations for *0 and *-1
		if i == len(b) {
			return args, 0, nil
		}
		if b[i] != '$' {
			return args, 0, errRESPType("'$'", b[i])
		}
		size, start, err := respNumber(b, i+1, errRESPBulkLen)
		if err != nil || start < 0 {
			return args, 0, err
		}
		switch {
		case size < 0:
			return args, 0, errRESPBulkLen
		case size > int64(l.maxBulk):
			return args, 0, respTooLarge("RESP bulk string", size, l.maxBulk)
		}
		next, err := respBulkBody(b, start, size)
		if err != nil || next < 0 {
			return args, 0, err
		}
		end := start + int(size)
		args = append(args, b[start:end:end])
		i = next
	}
	return args, i, nil
}

// respParseInline parses an inline command: one line ending in LF or CRLF.
func respParseInline(b []byte, args [][]byte, l *respLimits) ([][]byte, int, error) {
	max := l.maxInline
	window := b
	if len(window) > max+2 {
		window = window[:max+2] // max bytes of text, then CR and LF
	}
	lf := bytes.IndexByte(window, '\n')
	if lf < 0 {
		if len(window) == max+2 {
			return args, 0, respTooLarge("RESP inline command", int64(max)+1, max)
		}
		return args, 0, nil
	}
	line := b[:lf]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	if len(line) > max {
		return args, 0, respTooLarge("RESP inline command", int64(len(line)), max)
	}
	// Check the whole line first, so that a bad line leaves b untouched,
	// then split it, unquoting in place.
	words := 0
	for i := 0; ; words++ {
		_, next, err := respInlineArg(line, i, false)
		if err != nil {
			return args, 0, err
		}
		if next < 0 {
			break
		}
		i = next
	}
	if words > l.maxArgs {
		return args, 0, respTooMany("RESP inline command arguments", int64(words), l.maxArgs)
	}
	for i := 0; ; {
		arg, next, _ := respInlineArg(line, i, true)
		if next < 0 {
			break
		}
		args = append(args, arg)
		i = next
	}
	return args, lf + 1, nil
}

// respIsInlineSpace reports whether c separates inline arguments: the bytes C's
// isspace accepts, like Redis.
func respIsInlineSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'
}

// respInlineArg reads the argument of line that starts at or after line[i],
// skipping spaces, and returns it with the index to continue from; next is
// -1 when no argument is left. An argument is a run of bytes up to a space;
// a double or single quote in it opens a quoted part that runs to the
// matching quote and may hold spaces and escapes. The unquoted bytes are
// written over the argument's own bytes in line, which they never outgrow;
// with write false nothing is written and arg is meaningless, which checks
// the line without changing it.
func respInlineArg(line []byte, i int, write bool) (arg []byte, next int, err error) {
	for i < len(line) && respIsInlineSpace(line[i]) {
		i++
	}
	if i == len(line) {
		return nil, -1, nil
	}
	start, w := i, i // w is where the next unquoted byte goes
	put := func(c byte) {
		if write && w != i {
			line[w] = c
		}
		w++
	}
	for i < len(line) && !respIsInlineSpace(line[i]) {
		q := line[i]
		if q != '"' && q != '\'' {
			put(q)
			i++
			continue
		}
		// A quoted part: i is at the opening quote. put compares w with i,
		// so i must point past everything already read whenever put runs.
		i++
		closed := false
		for i < len(line) {
			c := line[i]
			if c == q {
				closed = true
				i++
				break
			}
			switch {
			case c == '\\' && q == '"' && i+3 < len(line) && line[i+1] == 'x' &&
				respIsHex(line[i+2]) && respIsHex(line[i+3]):
				i += 4
				put(respUnhex(line[i-2])<<4 | respUnhex(line[i-1]))
			case c == '\\' && q == '"' && i+1 < len(line):
				i += 2
				put(respUnescape(line[i-1]))
			case c == '\\' && q == '\'' && i+1 < len(line) && line[i+1] == '\'':
				i += 2
				put('\'')
			default:
				i++
				put(c)
			}
		}
		if !closed || (i < len(line) && !respIsInlineSpace(line[i])) {
			return nil, 0, errRESPQuotes
		}
	}
	return line[start:w:w], i, nil
}

// respUnescape returns the byte a backslash escape inside double quotes stands
// for; an unknown escape stands for the character itself.
func respUnescape(c byte) byte {
	switch c {
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	case 'b':
		return '\b'
	case 'a':
		return '\a'
	}
	return c
}

func respIsHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// respUnhex returns the value of the hex digit c.
func respUnhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}
