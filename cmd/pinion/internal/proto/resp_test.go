package proto

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pinion-net/pinion/cmd/pinion/internal/wiretest"
	"github.com/pinion-net/pinion/codec"
)

// respNow is the clock of the serve tests.
var respNow = time.Unix(1_700_000_000, 0)

// newTestRESP returns the resp protocol with the serve defaults. Its
// store's sweeper is stopped: these tests run on their own clock, which
// the sweeper, on the wall clock, would disagree with.
func newTestRESP(t testing.TB) *RESP {
	t.Helper()
	p, err := newRESP(Options{MaxHeader: 8 << 10, MaxBody: 1 << 20})
	if err != nil {
		t.Fatalf("newRESP: %v", err)
	}
	Close(p)
	return p.(*RESP)
}

const (
	respSyntax = "-ERR syntax error\r\n"
	respNotInt = "-ERR value is not an integer or out of range\r\n"
)

func respArity(name string) string {
	return wiretest.RESPError("ERR wrong number of arguments for '" + name + "' command")
}

// TestRESPCommands runs each case's commands on a fresh store, all in one
// serve call, and compares the concatenated replies.
func TestRESPCommands(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"ping", wiretest.RESPCommands("PING"), "+PONG\r\n"},
		{"ping message", wiretest.RESPCommands("ping hello"), wiretest.RESPBulk("hello")},
		{"ping arity", wiretest.RESPCommands("PING a b"), respArity("ping")},
		{"echo", wiretest.RESPCommands("ECHO hi", "echo"), wiretest.RESPBulk("hi") + respArity("echo")},
		{"get missing", wiretest.RESPCommands("GET k"), wiretest.RESPNull},
		{"set get", wiretest.RESPCommands("SET k v", "GET k"), wiretest.RESPOK + wiretest.RESPBulk("v")},
		{"get arity", wiretest.RESPCommands("GET", "GET a b"), respArity("get") + respArity("get")},
		{"case-insensitive", wiretest.RESPCommands("sEt k v", "gEt k"), wiretest.RESPOK + wiretest.RESPBulk("v")},
		{"set arity", wiretest.RESPCommands("SET k"), respArity("set")},
		{"set nx", wiretest.RESPCommands("SET k v NX", "SET k w nx", "GET k"), wiretest.RESPOK + wiretest.RESPNull + wiretest.RESPBulk("v")},
		{"set xx", wiretest.RESPCommands("SET k v XX", "GET k", "SET k v", "SET k w XX", "GET k"), wiretest.RESPNull + wiretest.RESPNull + wiretest.RESPOK + wiretest.RESPOK + wiretest.RESPBulk("w")},
		{"set ex", wiretest.RESPCommands("SET k v EX 10", "TTL k"), wiretest.RESPOK + wiretest.RESPInt(10)},
		{"set px rounds", wiretest.RESPCommands("SET k v PX 1500", "TTL k", "SET j v px 1499", "TTL j"), wiretest.RESPOK + wiretest.RESPInt(2) + wiretest.RESPOK + wiretest.RESPInt(1)},
		{"set options any order", wiretest.RESPCommands("SET k v ex 5 nx", "TTL k"), wiretest.RESPOK + wiretest.RESPInt(5)},
		{"set clears ttl", wiretest.RESPCommands("SET k v EX 10", "SET k w", "TTL k"), wiretest.RESPOK + wiretest.RESPOK + wiretest.RESPInt(-1)},
		{"set keepttl", wiretest.RESPCommands("SET k v EX 10", "SET k w KEEPTTL", "TTL k", "GET k"), wiretest.RESPOK + wiretest.RESPOK + wiretest.RESPInt(10) + wiretest.RESPBulk("w")},
		{"set ex zero", wiretest.RESPCommands("SET k v EX 0"), wiretest.RESPError("ERR invalid expire time in 'set' command")},
		{"set px negative", wiretest.RESPCommands("SET k v PX -5"), wiretest.RESPError("ERR invalid expire time in 'set' command")},
		{"set ex overflow", wiretest.RESPCommands("SET k v EX 9223372036854775"), wiretest.RESPError("ERR invalid expire time in 'set' command")},
		{"set ex not integer", wiretest.RESPCommands("SET k v EX ten"), respNotInt},
		{"set ex missing value", wiretest.RESPCommands("SET k v EX"), respSyntax},
		{"set nx xx", wiretest.RESPCommands("SET k v NX XX"), respSyntax},
		{"set ex px", wiretest.RESPCommands("SET k v EX 1 PX 1"), respSyntax},
		{"set ex keepttl", wiretest.RESPCommands("SET k v EX 1 KEEPTTL"), respSyntax},
		{"set unknown option", wiretest.RESPCommands("SET k v GET"), respSyntax},
		{"set failed leaves key", wiretest.RESPCommands("SET k v EX 0", "EXISTS k"), wiretest.RESPError("ERR invalid expire time in 'set' command") + wiretest.RESPInt(0)},
		{"del", wiretest.RESPCommands("MSET a 1 b 2", "DEL a b c", "DEL a", "DEL"), wiretest.RESPOK + wiretest.RESPInt(2) + wiretest.RESPInt(0) + respArity("del")},
		{"exists", wiretest.RESPCommands("SET a 1", "EXISTS a a b", "EXISTS"), wiretest.RESPOK + wiretest.RESPInt(2) + respArity("exists")},
		{"incr decr", wiretest.RESPCommands("INCR n", "INCR n", "DECR n", "DECR m"), wiretest.RESPInt(1) + wiretest.RESPInt(2) + wiretest.RESPInt(1) + wiretest.RESPInt(-1)},
		{"incr not integer", wiretest.RESPCommands("SET n x", "INCR n", "SET n 01", "DECR n"), wiretest.RESPOK + respNotInt + wiretest.RESPOK + respNotInt},
		{"incr overflow", wiretest.RESPCommands("SET n 9223372036854775807", "INCR n", "GET n"),
			wiretest.RESPOK + wiretest.RESPError("ERR increment or decrement would overflow") + wiretest.RESPBulk("9223372036854775807")},
		{"decr overflow", wiretest.RESPCommands("SET n -9223372036854775808", "DECR n"), wiretest.RESPOK + wiretest.RESPError("ERR increment or decrement would overflow")},
		{"incr arity", wiretest.RESPCommands("INCR", "DECR a b"), respArity("incr") + respArity("decr")},
		{"mget", wiretest.RESPCommands("SET a 1", "MGET a b a"), wiretest.RESPOK + "*3\r\n" + wiretest.RESPBulk("1") + wiretest.RESPNull + wiretest.RESPBulk("1")},
		{"mget arity", wiretest.RESPCommands("MGET"), respArity("mget")},
		{"mset", wiretest.RESPCommands("MSET a 1 b 2", "MGET a b"), wiretest.RESPOK + "*2\r\n" + wiretest.RESPBulk("1") + wiretest.RESPBulk("2")},
		{"mset arity", wiretest.RESPCommands("MSET a", "MSET a 1 b"), respArity("mset") + respArity("mset")},
		{"expire", wiretest.RESPCommands("SET k v", "EXPIRE k 100", "TTL k", "EXPIRE nope 100"), wiretest.RESPOK + wiretest.RESPInt(1) + wiretest.RESPInt(100) + wiretest.RESPInt(0)},
		{"expire zero deletes", wiretest.RESPCommands("SET k v", "EXPIRE k 0", "EXISTS k"), wiretest.RESPOK + wiretest.RESPInt(1) + wiretest.RESPInt(0)},
		{"expire negative deletes", wiretest.RESPCommands("SET k v", "EXPIRE k -1", "GET k"), wiretest.RESPOK + wiretest.RESPInt(1) + wiretest.RESPNull},
		{"expire not integer", wiretest.RESPCommands("SET k v", "EXPIRE k soon"), wiretest.RESPOK + respNotInt},
		{"expire overflow", wiretest.RESPCommands("SET k v", "EXPIRE k 9223372036854775807"), wiretest.RESPOK + wiretest.RESPError("ERR invalid expire time in 'expire' command")},
		{"expire arity", wiretest.RESPCommands("EXPIRE k", "EXPIRE k 1 NX"), respArity("expire") + respArity("expire")},
		{"ttl", wiretest.RESPCommands("TTL k", "SET k v", "TTL k"), wiretest.RESPInt(-2) + wiretest.RESPOK + wiretest.RESPInt(-1)},
		{"dbsize flushall", wiretest.RESPCommands("MSET a 1 b 2", "DBSIZE", "FLUSHALL", "DBSIZE", "GET a"), wiretest.RESPOK + wiretest.RESPInt(2) + wiretest.RESPOK + wiretest.RESPInt(0) + wiretest.RESPNull},
		{"flushall modes", wiretest.RESPCommands("FLUSHALL ASYNC", "flushall sync", "FLUSHALL later"), wiretest.RESPOK + wiretest.RESPOK + respSyntax},
		{"dbsize arity", wiretest.RESPCommands("DBSIZE x"), respArity("dbsize")},
		{"command", wiretest.RESPCommands("COMMAND", "COMMAND DOCS", "command docs get", "COMMAND COUNT", "COMMAND INFO get"),
			"*0\r\n*0\r\n*0\r\n" + wiretest.RESPInt(0) + "*0\r\n"},
		{"command unknown", wiretest.RESPCommands("COMMAND GETKEYS"), wiretest.RESPError("ERR unknown subcommand 'GETKEYS'. Try COMMAND HELP.")},
		{"config get", wiretest.RESPCommands("CONFIG GET save", "config get APPENDONLY", "CONFIG GET save appendonly maxmemory"),
			"*2\r\n" + wiretest.RESPBulk("save") + wiretest.RESPBulk("") + "*2\r\n" + wiretest.RESPBulk("appendonly") + wiretest.RESPBulk("no") +
				"*4\r\n" + wiretest.RESPBulk("save") + wiretest.RESPBulk("") + wiretest.RESPBulk("appendonly") + wiretest.RESPBulk("no")},
		{"config get unknown", wiretest.RESPCommands("CONFIG GET maxmemory"), "*0\r\n"},
		{"config get arity", wiretest.RESPCommands("CONFIG GET"), respArity("config|get")},
		{"config set", wiretest.RESPCommands("CONFIG SET save x"), wiretest.RESPError("ERR unknown subcommand 'SET'. Try CONFIG HELP.")},
		{"config arity", wiretest.RESPCommands("CONFIG"), respArity("config")},
		{"select", wiretest.RESPCommands("SELECT 0", "SELECT 1", "SELECT x"), wiretest.RESPOK + wiretest.RESPError("ERR DB index is out of range") + respNotInt},
		{"client", wiretest.RESPCommands("CLIENT SETNAME me", "client setinfo lib-name x", "CLIENT SETNAME", "CLIENT KILL x"),
			wiretest.RESPOK + wiretest.RESPOK + respArity("client|setname") + wiretest.RESPError("ERR unknown subcommand 'KILL'. Try CLIENT HELP.")},
		{"unknown", wiretest.RESPCommands("FOO bar"), wiretest.RESPError("ERR unknown command 'FOO'")},
		{"unknown long", wiretest.RESPCommands(strings.Repeat("x", 200)), wiretest.RESPError("ERR unknown command '" + strings.Repeat("x", 128) + "'")},
		{"unknown with line breaks", codec.AppendCommand(nil, []byte("A\r\nB")), wiretest.RESPError("ERR unknown command 'A  B'")},
		{"inline", []byte("SET k \"a b\"\r\nGET k\nPING\r\n"), wiretest.RESPOK + wiretest.RESPBulk("a b") + "+PONG\r\n"},
		{"empty commands ignored", []byte("\r\n*0\r\n*-1\r\nPING\r\n"), "+PONG\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newTestRESP(t)
			sc := &Scratch{Now: respNow}
			n, out, next := r.Serve(sc, tt.in, nil)
			if string(out) != tt.want {
				t.Errorf("replies:\n got %q\nwant %q", out, tt.want)
			}
			if n != len(tt.in) || next != (Action{}) {
				t.Errorf("serve = %d, %+v; want %d, no action", n, next, len(tt.in))
			}
		})
	}
}

// TestRESPExpiry moves the clock between serve calls.
func TestRESPExpiry(t *testing.T) {
	r := newTestRESP(t)
	at := func(d time.Duration, lines ...string) string {
		_, out, _ := r.Serve(&Scratch{Now: respNow.Add(d)}, wiretest.RESPCommands(lines...), nil)
		return string(out)
	}
	steps := []struct {
		d     time.Duration
		lines []string
		want  string
	}{
		{0, []string{"SET s v EX 10", "SET p v PX 250", "SET k v", "EXPIRE k 5"}, wiretest.RESPOK + wiretest.RESPOK + wiretest.RESPOK + wiretest.RESPInt(1)},
		{249 * time.Millisecond, []string{"GET p", "TTL s"}, wiretest.RESPBulk("v") + wiretest.RESPInt(10)},
		{250 * time.Millisecond, []string{"GET p", "EXISTS p"}, wiretest.RESPNull + wiretest.RESPInt(0)},
		{4 * time.Second, []string{"TTL k", "TTL s"}, wiretest.RESPInt(1) + wiretest.RESPInt(6)},
		{5 * time.Second, []string{"GET k", "TTL k", "INCR s"}, wiretest.RESPNull + wiretest.RESPInt(-2) + respNotInt},
		{9999 * time.Millisecond, []string{"MGET s k"}, "*2\r\n" + wiretest.RESPBulk("v") + wiretest.RESPNull},
		{10 * time.Second, []string{"MGET s k", "DEL s", "EXPIRE s 1"}, "*2\r\n" + wiretest.RESPNull + wiretest.RESPNull + wiretest.RESPInt(0) + wiretest.RESPInt(0)},
	}
	for _, s := range steps {
		if got := at(s.d, s.lines...); got != s.want {
			t.Errorf("at +%v %q:\n got %q\nwant %q", s.d, s.lines, got, s.want)
		}
	}
}

// TestRESPPipeline serves 16 commands arriving together in one call.
func TestRESPPipeline(t *testing.T) {
	r := newTestRESP(t)
	var lines []string
	var want string
	for i := range 8 {
		k := "key:" + strconv.Itoa(i)
		lines = append(lines, "SET "+k+" v"+strconv.Itoa(i), "GET "+k)
		want += wiretest.RESPOK + wiretest.RESPBulk("v"+strconv.Itoa(i))
	}
	in := wiretest.RESPCommands(lines...)
	n, out, next := r.Serve(&Scratch{Now: respNow}, in, nil)
	if string(out) != want || n != len(in) || next != (Action{}) {
		t.Errorf("serve = %d, %q, %+v; want %d, %q, no action", n, out, next, len(in), want)
	}
}

// TestRESPSplit cuts pipelined input at every byte: the first call serves
// the complete commands and reports partial, the second the rest.
func TestRESPSplit(t *testing.T) {
	in := append(wiretest.RESPCommands("SET k hello", "GET k"), "INCR n\r\n"...)
	in = append(in, wiretest.RESPCommands("MGET k n")...)
	want := wiretest.RESPOK + wiretest.RESPBulk("hello") + wiretest.RESPInt(1) + "*2\r\n" + wiretest.RESPBulk("hello") + wiretest.RESPBulk("1")
	for cut := 1; cut < len(in); cut++ {
		r := newTestRESP(t)
		sc := &Scratch{Now: respNow}
		n, out, next := r.Serve(sc, in[:cut], nil)
		if next != (Action{Partial: n < cut}) {
			t.Fatalf("cut %d: first call used %d, action %+v; want partial exactly when bytes are left", cut, n, next)
		}
		n2, out2, next2 := r.Serve(sc, in[n:], nil)
		if n+n2 != len(in) || next2 != (Action{}) {
			t.Fatalf("cut %d: used %d+%d of %d, then %+v", cut, n, n2, len(in), next2)
		}
		if got := string(out) + string(out2); got != want {
			t.Fatalf("cut %d: replies %q, want %q", cut, got, want)
		}
	}
}

func TestRESPQuit(t *testing.T) {
	r := newTestRESP(t)
	in := []byte("PING\r\nQUIT\r\nPING\r\n")
	n, out, next := r.Serve(&Scratch{Now: respNow}, in, nil)
	if want := "+PONG\r\n+OK\r\n"; string(out) != want {
		t.Errorf("replies %q, want %q", out, want)
	}
	if n != len("PING\r\nQUIT\r\n") || !next.Close || next.Err != nil {
		t.Errorf("serve = %d, %+v; want %d and close without error", n, next, len("PING\r\nQUIT\r\n"))
	}
}

func TestRESPProtocolErrors(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		want      string
		tooLarge  bool // a *codec.FrameTooLargeError, else a *codec.RESPError
		wantUsed  int
		wantReply string
	}{
		{name: "bad bulk length", in: "PING\r\n*1\r\n$x\r\n", wantUsed: 6,
			want: "+PONG\r\n" + wiretest.RESPError("ERR Protocol error: invalid bulk length")},
		{name: "bad multibulk length", in: "*-5\r\n", want: wiretest.RESPError("ERR Protocol error: invalid multibulk length")},
		{name: "not a bulk", in: "*1\r\n:1\r\n", want: wiretest.RESPError("ERR Protocol error: expected '$', got ':'")},
		{name: "unbalanced quotes", in: "SET k \"v\r\n", want: wiretest.RESPError("ERR Protocol error: unbalanced quotes in request")},
		{name: "declared 1 TiB", in: "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1099511627776\r\n", tooLarge: true,
			want: wiretest.RESPError("ERR Protocol error: RESP bulk string of 1099511627776 bytes exceeds the limit of 1048576")},
		{name: "inline too long", in: strings.Repeat("x", 9<<10), tooLarge: true,
			want: wiretest.RESPError("ERR Protocol error: RESP inline command of 8193 bytes exceeds the limit of 8192")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newTestRESP(t)
			n, out, next := r.Serve(&Scratch{Now: respNow}, []byte(tt.in), nil)
			if string(out) != tt.want {
				t.Errorf("replies %q, want %q", out, tt.want)
			}
			if n != tt.wantUsed || !next.Close {
				t.Errorf("serve = %d, %+v; want %d and close", n, next, tt.wantUsed)
			}
			var large *codec.FrameTooLargeError
			var malformed *codec.RESPError
			if tt.tooLarge && !errors.As(next.Err, &large) || !tt.tooLarge && !errors.As(next.Err, &malformed) {
				t.Errorf("err = %v (%T), want a %s", next.Err, next.Err, map[bool]string{true: "FrameTooLargeError", false: "RESPError"}[tt.tooLarge])
			}
		})
	}
}

// TestRESPReplyBudget checks that a long pipeline of big replies is served
// in several calls rather than into one huge buffer.
func TestRESPReplyBudget(t *testing.T) {
	r := newTestRESP(t)
	sc := &Scratch{Now: respNow}
	val := strings.Repeat("v", 100<<10)
	if _, out, _ := r.Serve(sc, wiretest.RESPCommands("SET big "+val), nil); string(out) != wiretest.RESPOK {
		t.Fatalf("SET big: %q", out)
	}
	in := wiretest.RESPCommands("GET big", "GET big", "GET big", "GET big", "GET big", "GET big")
	calls, total := 0, 0
	for len(in) > 0 && calls < 10 {
		n, out, next := r.Serve(sc, in, nil)
		if n == 0 || next != (Action{}) {
			t.Fatalf("call %d: serve = %d, %+v; want progress, no action", calls, n, next)
		}
		if len(out) > respReplyBudget+len(wiretest.RESPBulk(val)) {
			t.Errorf("call %d: %d reply bytes, want at most one reply past %d", calls, len(out), respReplyBudget)
		}
		total += len(out)
		in = in[n:]
		calls++
	}
	if want := 6 * len(wiretest.RESPBulk(val)); total != want || calls < 2 {
		t.Errorf("%d reply bytes in %d calls, want %d in more than one", total, calls, want)
	}
}

// TestRESPAllocs: serving GETs of an existing key, and SETs overwriting one
// with a value of the same size, allocates nothing once the scratch and
// the output buffer have grown.
func TestRESPAllocs(t *testing.T) {
	r := newTestRESP(t)
	sc := &Scratch{Now: respNow}
	r.Serve(sc, wiretest.RESPCommands("SET key:000001 xxx"), nil)
	tests := []struct {
		name string
		in   []byte
	}{
		{"16 pipelined GET", bytes.Repeat(wiretest.RESPCommands("GET key:000001"), 16)},
		{"16 pipelined SET of an existing key", bytes.Repeat(wiretest.RESPCommands("SET key:000001 yyy"), 16)},
		{"16 pipelined inline get", bytes.Repeat([]byte("get key:000001\r\n"), 16)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := make([]byte, 0, 4096)
			allocs := testing.AllocsPerRun(1000, func() {
				n, reply, next := r.Serve(sc, tt.in, out[:0])
				if n != len(tt.in) || next != (Action{}) {
					t.Fatalf("serve = %d, %+v", n, next)
				}
				out = reply
			})
			if allocs != 0 {
				t.Errorf("%v allocations a call, want 0", allocs)
			}
		})
	}
}

// respDrive serves in as a server does: call after call while the
// protocol makes progress. It returns the replies, the bytes used and the
// last action.
func respDrive(r *RESP, sc *Scratch, in []byte) (replies []byte, used int, last Action) {
	for used < len(in) {
		n, out, next := r.Serve(sc, in[used:], nil)
		replies = append(replies, out...)
		used += n
		last = next
		if next.Close || next.Partial || n == 0 {
			break
		}
	}
	return replies, used, last
}

// FuzzRESPServe serves arbitrary input whole, and again cut in two where
// the first part is served, its leftover kept and the second part
// appended, as a server does with two reads. Both must give the same
// replies and the same end, and serve must never panic.
func FuzzRESPServe(f *testing.F) {
	f.Add(wiretest.RESPCommands("SET k v EX 10", "GET k", "TTL k", "INCR n", "MGET k n"), 5)
	f.Add([]byte("PING\r\nSET k \"a b\"\r\nQUIT\r\nPING\r\n"), 7)
	f.Add([]byte("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1099511627776\r\n"), 20)
	f.Add([]byte("*1\r\n$x\r\n"), 3)
	f.Add(wiretest.RESPCommands("MSET a 1 b 2", "DEL a", "EXISTS a b", "DBSIZE", "FLUSHALL", "DBSIZE"), 30)
	f.Fuzz(func(t *testing.T, in []byte, cut int) {
		if len(in) > 64<<10 {
			return
		}
		cut = max(0, min(cut, len(in)))
		// Each run gets its own copy: serve may unquote inline arguments
		// in place, in the bytes it consumes.
		whole, used, last := respDrive(newTestRESP(t), &Scratch{Now: respNow}, bytes.Clone(in))
		in = bytes.Clone(in)

		r, sc := newTestRESP(t), &Scratch{Now: respNow}
		got, used1, last1 := respDrive(r, sc, in[:cut])
		if !last1.Close {
			more, used2, last2 := respDrive(r, sc, in[used1:])
			got, used1, last1 = append(got, more...), used1+used2, last2
		}
		if !bytes.Equal(got, whole) {
			t.Fatalf("cut at %d: replies\n%q\nwhole:\n%q", cut, got, whole)
		}
		if used1 != used || last1.Close != last.Close || last1.Partial != last.Partial || (last1.Err == nil) != (last.Err == nil) {
			t.Fatalf("cut at %d: used %d, %+v; whole: used %d, %+v", cut, used1, last1, used, last)
		}
	})
}
