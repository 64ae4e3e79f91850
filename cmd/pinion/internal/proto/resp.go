package proto

import (
	"errors"
	"math"
	"strings"
	"time"

	"github.com/pinion-net/pinion/cmd/pinion/internal/kv"
	"github.com/pinion-net/pinion/codec"
)

const (
	// respDefaultBulk bounds a bulk string when -max-body is 0.
	respDefaultBulk = 64 << 10
	// respReplyBudget is how many reply bytes one Serve call collects
	// before it returns, leaving the rest of the input for the next call:
	// the caller then writes, and its flow control sees the replies, before
	// a long pipeline of big GETs has grown one huge buffer.
	respReplyBudget = 256 << 10
	// respMaxName is the longest command name looked up; longer ones are
	// unknown without being folded to upper case.
	respMaxName = 16
	// respMaxErrorArg is how much of a client's bytes an error quotes, as
	// Redis cuts them.
	respMaxErrorArg = 128
)

// The fixed error replies.
const (
	respErrSyntax     = "ERR syntax error"
	respErrNotInteger = "ERR value is not an integer or out of range"
	respErrDBIndex    = "ERR DB index is out of range"
	respErrSetExpire  = "ERR invalid expire time in 'set' command"
	respErrExpireTime = "ERR invalid expire time in 'expire' command"
	respErrUnknownCmd = "ERR unknown command '"
	respErrUnknownSub = "ERR unknown subcommand '"
	respErrProtocol   = "ERR Protocol error: "
)

// RESP is -proto resp: enough of Redis for redis-cli and redis-benchmark,
// over a kv.Store shared by every connection of the server. Commands are
// looked up case-insensitively; their replies follow Redis 7's, errors
// included, except where a command's doc comment says otherwise and for an
// unknown command: "-ERR unknown command '<name>'", without the first
// arguments Redis 7 adds.
//
// A protocol error (input that is not RESP, or a size over the limits) is
// answered with "-ERR Protocol error: ..." and closes the connection, as
// Redis does. Commands spanning several keys (DEL, MGET, MSET, ...) take
// one key's lock at a time: each key's part is atomic, the whole is not.
type RESP struct {
	limits   codec.RESPLimits
	store    *kv.Store
	commands map[string]*respCommand // by upper-case name; only read
}

// respCommand is one command of the table.
type respCommand struct {
	name     string // lower case, as Redis names commands in errors
	min, max int    // bounds of len(args), the name included; max < 0: none
	run      func(r *RESP, args [][]byte, out []byte, now int64) []byte
	errArity string // the wrong-arity error, built once
}

// newRESP returns the resp protocol with a new, empty store. A bulk string
// may be -max-body bytes long (64 KiB when that is 0), an inline command
// -max-header bytes, so that a command with one big value always fits the
// input a connection may hold (the serve command sizes it so). The server's
// shutdown closes it, which stops the store's sweeper.
func newRESP(o Options) (Protocol, error) {
	r := &RESP{
		limits: codec.RESPLimits{MaxInline: o.MaxHeader, MaxBulk: int(min(o.MaxBody, math.MaxInt32))},
		store:  kv.New(nil),
	}
	if o.MaxBody <= 0 {
		r.limits.MaxBulk = respDefaultBulk
	}
	r.commands = make(map[string]*respCommand)
	for _, c := range []respCommand{
		{name: "ping", min: 1, max: 2, run: (*RESP).ping},
		{name: "echo", min: 2, max: 2, run: (*RESP).echo},
		{name: "get", min: 2, max: 2, run: (*RESP).get},
		{name: "set", min: 3, max: -1, run: (*RESP).set},
		{name: "del", min: 2, max: -1, run: (*RESP).del},
		{name: "exists", min: 2, max: -1, run: (*RESP).exists},
		{name: "incr", min: 2, max: 2, run: (*RESP).incr},
		{name: "decr", min: 2, max: 2, run: (*RESP).decr},
		{name: "mget", min: 2, max: -1, run: (*RESP).mget},
		{name: "mset", min: 3, max: -1, run: (*RESP).mset},
		{name: "expire", min: 3, max: 3, run: (*RESP).expire},
		{name: "ttl", min: 2, max: 2, run: (*RESP).ttl},
		{name: "dbsize", min: 1, max: 1, run: (*RESP).dbsize},
		{name: "flushall", min: 1, max: 2, run: (*RESP).flushall},
		{name: "select", min: 2, max: 2, run: (*RESP).selectDB},
		{name: "command", min: 1, max: -1, run: (*RESP).command},
		{name: "config", min: 2, max: -1, run: (*RESP).config},
		{name: "client", min: 2, max: -1, run: (*RESP).client},
		{name: "quit", min: 1, max: -1, run: (*RESP).quit},
	} {
		c.errArity = "ERR wrong number of arguments for '" + c.name + "' command"
		r.commands[strings.ToUpper(c.name)] = &c
	}
	return r, nil
}

// Close stops the store's sweeper; the servers call it once they have
// stopped serving.
func (r *RESP) Close() error { return r.store.Close() }

// serve runs the complete commands at the start of in, appending their
// replies to out. It stops early once the replies pass respReplyBudget
// (the caller calls again for the rest), at a QUIT, at a protocol error,
// and at an incomplete command (partial).
func (r *RESP) Serve(sc *Scratch, in, out []byte) (int, []byte, Action) {
	now := sc.Now.UnixNano()
	if sc.Now.IsZero() {
		now = time.Now().UnixNano()
	}
	off := 0
	for off < len(in) && len(out) < respReplyBudget {
		args, n, err := codec.ParseCommand(in[off:], sc.args, &r.limits)
		sc.args = args
		switch {
		case err != nil:
			return off, appendProtocolError(out, err), Action{Close: true, Err: err}
		case n == 0:
			return off, out, Action{Partial: true}
		}
		off += n
		if len(args) == 0 {
			continue // an empty command, which Redis ignores
		}
		var quit bool
		if out, quit = r.exec(args, out, now); quit {
			return off, out, Action{Close: true}
		}
	}
	return off, out, Action{}
}

// exec runs one command and appends its reply; quit reports a QUIT. The
// name is folded to upper case in a stack array, and the map lookup with
// string(name) does not allocate.
func (r *RESP) exec(args [][]byte, out []byte, now int64) (_ []byte, quit bool) {
	var buf [respMaxName]byte
	name := args[0]
	if len(name) > len(buf) {
		return appendErrorArg(out, respErrUnknownCmd, name, "'"), false
	}
	upper := buf[:len(name)]
	for i, c := range name {
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		upper[i] = c
	}
	c := r.commands[string(upper)]
	switch {
	case c == nil:
		return appendErrorArg(out, respErrUnknownCmd, name, "'"), false
	case len(args) < c.min || (c.max >= 0 && len(args) > c.max):
		return codec.AppendError(out, c.errArity), false
	}
	return c.run(r, args, out, now), c.name == "quit"
}

// appendProtocolError appends the reply to a protocol error: Redis's
// reason for malformed input, the limit passed for oversized input.
func appendProtocolError(out []byte, err error) []byte {
	var re *codec.RESPError
	if errors.As(err, &re) {
		return codec.AppendError(out, respErrProtocol+re.Reason)
	}
	return codec.AppendError(out, respErrProtocol+strings.TrimPrefix(err.Error(), "codec: "))
}

// appendErrorArg appends the error reply prefix, arg, suffix, with arg
// cut to respMaxErrorArg bytes and its line breaks made spaces. It does
// not allocate when out has the room.
func appendErrorArg(out []byte, prefix string, arg []byte, suffix string) []byte {
	out = append(out, '-')
	out = append(out, prefix...)
	start := len(out)
	out = append(out, arg[:min(len(arg), respMaxErrorArg)]...)
	for i := start; i < len(out); i++ {
		if out[i] == '\r' || out[i] == '\n' {
			out[i] = ' '
		}
	}
	out = append(out, suffix...)
	return append(out, '\r', '\n')
}

// isWord reports whether b is the upper-case word w in any case.
func isWord(b []byte, w string) bool {
	if len(b) != len(w) {
		return false
	}
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c != w[i] {
			return false
		}
	}
	return true
}

// deadline returns now plus n units, or false when that overflows the
// store's int64 nanoseconds (past the year 2262); n must be positive.
func deadline(now, n int64, unit time.Duration) (int64, bool) {
	if n > (math.MaxInt64-now)/int64(unit) {
		return 0, false
	}
	return now + n*int64(unit), true
}

// ping answers PONG, or echoes its argument as a bulk string.
func (r *RESP) ping(args [][]byte, out []byte, _ int64) []byte {
	if len(args) == 2 {
		return codec.AppendBulk(out, args[1])
	}
	return codec.AppendSimple(out, "PONG")
}

func (r *RESP) echo(args [][]byte, out []byte, _ int64) []byte {
	return codec.AppendBulk(out, args[1])
}

func (r *RESP) get(args [][]byte, out []byte, now int64) []byte {
	out, ok := r.store.AppendGet(out, args[1], now)
	if !ok {
		out = codec.AppendNull(out)
	}
	return out
}

// set is SET key value [NX|XX] [EX s|PX ms|KEEPTTL], options in any order.
// It answers +OK, or the null bulk when NX or XX prevented it. Its GET,
// EXAT and PXAT options are not supported: a syntax error.
func (r *RESP) set(args [][]byte, out []byte, now int64) []byte {
	var mode kv.SetMode
	var at int64
	ttl := false // EX or PX seen
	for i := 3; i < len(args); i++ {
		a := args[i]
		switch {
		case isWord(a, "NX") && !mode.XX:
			mode.NX = true
		case isWord(a, "XX") && !mode.NX:
			mode.XX = true
		case isWord(a, "KEEPTTL") && !ttl:
			mode.KeepTTL = true
		case (isWord(a, "EX") || isWord(a, "PX")) && !ttl && !mode.KeepTTL && i+1 < len(args):
			unit := time.Second
			if isWord(a, "PX") {
				unit = time.Millisecond
			}
			i++
			n, ok := codec.ParseInt(args[i])
			if !ok {
				return codec.AppendError(out, respErrNotInteger)
			}
			if n <= 0 {
				return codec.AppendError(out, respErrSetExpire)
			}
			if at, ok = deadline(now, n, unit); !ok {
				return codec.AppendError(out, respErrSetExpire)
			}
			ttl = true
		default:
			return codec.AppendError(out, respErrSyntax)
		}
	}
	if !r.store.Set(args[1], args[2], at, mode, now) {
		return codec.AppendNull(out)
	}
	return codec.AppendSimple(out, "OK")
}

// del answers how many of the keys it deleted.
func (r *RESP) del(args [][]byte, out []byte, now int64) []byte {
	n := 0
	for _, k := range args[1:] {
		if r.store.Del(k, now) {
			n++
		}
	}
	return codec.AppendInt(out, int64(n))
}

// exists answers how many of the keys exist, a key named twice counting
// twice.
func (r *RESP) exists(args [][]byte, out []byte, now int64) []byte {
	n := 0
	for _, k := range args[1:] {
		if r.store.Exists(k, now) {
			n++
		}
	}
	return codec.AppendInt(out, int64(n))
}

func (r *RESP) incr(args [][]byte, out []byte, now int64) []byte {
	return r.incrBy(args[1], 1, out, now)
}

func (r *RESP) decr(args [][]byte, out []byte, now int64) []byte {
	return r.incrBy(args[1], -1, out, now)
}

// incrBy answers the new value, or Redis's error for a value that is not
// an integer ("ERR value is not an integer or out of range") or a sum out
// of int64 ("ERR increment or decrement would overflow").
func (r *RESP) incrBy(key []byte, delta int64, out []byte, now int64) []byte {
	n, err := r.store.IncrBy(key, delta, now)
	if err != nil {
		return codec.AppendError(out, err.Error())
	}
	return codec.AppendInt(out, n)
}

// mget answers an array of the values, the null bulk for missing keys.
func (r *RESP) mget(args [][]byte, out []byte, now int64) []byte {
	out = codec.AppendArrayHeader(out, len(args)-1)
	for _, k := range args[1:] {
		var ok bool
		if out, ok = r.store.AppendGet(out, k, now); !ok {
			out = codec.AppendNull(out)
		}
	}
	return out
}

// mset is MSET key value [key value ...]; it answers +OK.
func (r *RESP) mset(args [][]byte, out []byte, now int64) []byte {
	if len(args)%2 == 0 {
		return codec.AppendError(out, r.commands["MSET"].errArity)
	}
	for i := 1; i < len(args); i += 2 {
		r.store.Set(args[i], args[i+1], 0, kv.SetMode{}, now)
	}
	return codec.AppendSimple(out, "OK")
}

// expire is EXPIRE key seconds: :1 when the key exists (and now expires in
// seconds, or is deleted for seconds <= 0), else :0. Redis 7's NX, XX, GT
// and LT options are not supported: a wrong-arity error.
func (r *RESP) expire(args [][]byte, out []byte, now int64) []byte {
	n, ok := codec.ParseInt(args[2])
	if !ok {
		return codec.AppendError(out, respErrNotInteger)
	}
	at := now // at or before now deletes
	if n > 0 {
		if at, ok = deadline(now, n, time.Second); !ok {
			return codec.AppendError(out, respErrExpireTime)
		}
	}
	if r.store.Expire(args[1], at, now) {
		return codec.AppendInt(out, 1)
	}
	return codec.AppendInt(out, 0)
}

// ttl answers the seconds a key has left, rounded to the nearest as Redis
// does; -1 for a key without a deadline, -2 for a missing key.
func (r *RESP) ttl(args [][]byte, out []byte, now int64) []byte {
	left, found, forever := r.store.TTL(args[1], now)
	switch {
	case !found:
		return codec.AppendInt(out, -2)
	case forever:
		return codec.AppendInt(out, -1)
	}
	return codec.AppendInt(out, (left+int64(time.Second)/2)/int64(time.Second))
}

func (r *RESP) dbsize(_ [][]byte, out []byte, _ int64) []byte {
	return codec.AppendInt(out, int64(r.store.Len()))
}

// flushall is FLUSHALL [ASYNC|SYNC]; both flush at once.
func (r *RESP) flushall(args [][]byte, out []byte, _ int64) []byte {
	if len(args) == 2 && !isWord(args[1], "ASYNC") && !isWord(args[1], "SYNC") {
		return codec.AppendError(out, respErrSyntax)
	}
	r.store.Flush()
	return codec.AppendSimple(out, "OK")
}

// selectDB is SELECT index: there is only database 0.
func (r *RESP) selectDB(args [][]byte, out []byte, _ int64) []byte {
	n, ok := codec.ParseInt(args[1])
	switch {
	case !ok:
		return codec.AppendError(out, respErrNotInteger)
	case n != 0:
		return codec.AppendError(out, respErrDBIndex)
	}
	return codec.AppendSimple(out, "OK")
}

// command answers as a server that documents no commands: COMMAND,
// COMMAND DOCS, INFO and LIST an empty array, COMMAND COUNT 0. redis-cli
// then falls back to its built-in help.
func (r *RESP) command(args [][]byte, out []byte, _ int64) []byte {
	switch {
	case len(args) == 1, isWord(args[1], "DOCS"), isWord(args[1], "INFO"), isWord(args[1], "LIST"):
		return codec.AppendArrayHeader(out, 0)
	case isWord(args[1], "COUNT") && len(args) == 2:
		return codec.AppendInt(out, 0)
	case isWord(args[1], "COUNT"):
		return codec.AppendError(out, "ERR wrong number of arguments for 'command|count' command")
	}
	return appendErrorArg(out, respErrUnknownSub, args[1], "'. Try COMMAND HELP.")
}

// config is CONFIG GET parameter [parameter ...]: an array of name and
// value pairs for the parameters redis-benchmark asks about ("save": no
// snapshots, "appendonly": no), matched exactly but in any case; other
// parameters are left out. Glob patterns are not supported.
func (r *RESP) config(args [][]byte, out []byte, _ int64) []byte {
	if !isWord(args[1], "GET") {
		return appendErrorArg(out, respErrUnknownSub, args[1], "'. Try CONFIG HELP.")
	}
	if len(args) < 3 {
		return codec.AppendError(out, "ERR wrong number of arguments for 'config|get' command")
	}
	n := 0
	for _, p := range args[2:] {
		if isWord(p, "SAVE") || isWord(p, "APPENDONLY") {
			n++
		}
	}
	out = codec.AppendArrayHeader(out, 2*n)
	for _, p := range args[2:] {
		switch {
		case isWord(p, "SAVE"):
			out = codec.AppendBulkString(out, "save")
			out = codec.AppendBulkString(out, "") // no snapshots, as redis-server --save ""
		case isWord(p, "APPENDONLY"):
			out = codec.AppendBulkString(out, "appendonly")
			out = codec.AppendBulkString(out, "no")
		}
	}
	return out
}

// client is CLIENT SETNAME name and CLIENT SETINFO attribute value, which
// clients send on connecting; both answer +OK and are forgotten.
func (r *RESP) client(args [][]byte, out []byte, _ int64) []byte {
	switch {
	case isWord(args[1], "SETNAME") && len(args) == 3,
		isWord(args[1], "SETINFO") && len(args) == 4:
		return codec.AppendSimple(out, "OK")
	case isWord(args[1], "SETNAME"):
		return codec.AppendError(out, "ERR wrong number of arguments for 'client|setname' command")
	case isWord(args[1], "SETINFO"):
		return codec.AppendError(out, "ERR wrong number of arguments for 'client|setinfo' command")
	}
	return appendErrorArg(out, respErrUnknownSub, args[1], "'. Try CLIENT HELP.")
}

// quit answers +OK; exec then has the connection closed once it is sent.
func (r *RESP) quit(_ [][]byte, out []byte, _ int64) []byte {
	return codec.AppendSimple(out, "OK")
}
