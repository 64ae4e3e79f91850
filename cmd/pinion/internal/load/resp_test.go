package load

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func respLoadConfig(op string, size, pipeline int) loadConfig {
	return loadConfig{proto: "resp", op: op, size: size, pipeline: pipeline}
}

// respWant returns the SET and GET of connection id and the value it SETs.
func respWant(id, size int) (set, get, value string) {
	key := fmt.Sprintf("key:%08d", id)
	value = string(loadRESPValue(id, size))
	set = fmt.Sprintf("*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", len(key), key, size, value)
	get = fmt.Sprintf("*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n", len(key), key)
	return set, get, value
}

func bulk(s string) string { return fmt.Sprintf("$%d\r\n%s\r\n", len(s), s) }

// TestRESPSession runs two batches of each -op, the replies split at every
// byte, and checks what was written and that every reply was counted.
func TestRESPSession(t *testing.T) {
	const id, size, n = 42, 20, 4
	set, get, value := respWant(id, size)
	for _, tc := range []struct {
		op                 string
		write1, write2     string
		replies1, replies2 string
	}{
		{"set", strings.Repeat(set, n), strings.Repeat(set, n),
			strings.Repeat("+OK\r\n", n), strings.Repeat("+OK\r\n", n)},
		{"get", set + strings.Repeat(get, n-1), strings.Repeat(get, n),
			"+OK\r\n" + strings.Repeat(bulk(value), n-1), strings.Repeat(bulk(value), n)},
	} {
		t.Run(tc.op, func(t *testing.T) {
			p := newRESPLoad(respLoadConfig(tc.op, size, n))
			for split := range len(tc.replies1) {
				s := p.session(id)
				written, done, err := exchange(s, n, []byte(tc.replies1), split)
				if err != nil || done != n || string(written) != tc.write1 {
					t.Fatalf("first batch, split at %d: %d done, err %v, wrote %q; want %d, nil, %q",
						split, done, err, written, n, tc.write1)
				}
				if split%7 != 0 {
					continue
				}
				written, done, err = exchange(s, n, []byte(tc.replies2), split%len(tc.replies2))
				if err != nil || done != n || string(written) != tc.write2 {
					t.Fatalf("second batch, split at %d: %d done, err %v, wrote %q; want %d, nil, %q",
						split, done, err, written, n, tc.write2)
				}
			}
		})
	}
	// A batch of one on a fresh -op get connection is the SET alone.
	p := newRESPLoad(respLoadConfig("get", size, 1))
	if written, done, err := exchange(p.session(id), 1, []byte("+OK\r\n"), 2); err != nil || done != 1 || string(written) != set {
		t.Errorf("a batch of one: %d done, err %v, wrote %q; want 1, nil, the SET", done, err, written)
	}
}

func TestRESPSessionRejects(t *testing.T) {
	const id, size = 7, 16
	set, _, value := respWant(id, size)
	other := []byte(value)
	other[5] ^= 1
	for _, tc := range []struct {
		name, op, replies, want string
	}{
		{"error for SET", "set", "+OK\r\n-ERR wrong number of arguments\r\n", "reply 2: -ERR wrong number of arguments, want +OK"},
		{"error for GET", "get", "+OK\r\n-WRONGTYPE Operation\r\n", "reply 2: -WRONGTYPE Operation, want the 16-byte value of key:00000007"},
		{"error for the first SET", "get", "-OOM command not allowed\r\n", "reply 1: -OOM command not allowed, want +OK"},
		{"nil bulk", "get", "+OK\r\n$-1\r\n", "reply 2: nil bulk, want the 16-byte value"},
		{"wrong value", "get", "+OK\r\n" + bulk(value) + bulk(string(other)), "reply 3: value differs from the 16-byte value of key:00000007 at byte 5"},
		{"short value", "get", "+OK\r\n" + bulk(value[:3]), "reply 2: bulk string of 3 bytes, want the 16-byte value"},
		{"bulk for SET", "set", "$2\r\nOK\r\n", "reply 1: bulk string of 2 bytes, want +OK"},
		{"integer", "set", ":1\r\n", "reply 1: integer \":1\\r\\n\", want +OK"},
		{"other simple string", "set", "+QUEUED\r\n", "reply 1: simple string \"+QUEUED\\r\\n\", want +OK"},
		{"echoed command", "set", set, "reply 1: array of 3 elements, want +OK"},
		{"not RESP", "set", "HTTP/1.1 400 Bad Request\r\n", "reply 1 is not RESP"},
		{"unrequested", "set", "+OK\r\n+OK\r\n+OK\r\n+", "1 bytes after reply 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newRESPLoad(respLoadConfig(tc.op, size, 3))
			_, _, err := exchange(p.session(id), 3, []byte(tc.replies), 0)
			if !errors.Is(err, errVerify) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want errVerify saying %q", err, tc.want)
			}
			// Split anywhere, it is still caught, as soon as it differs.
			for split := range len(tc.replies) {
				if _, _, err := exchange(p.session(id), 3, []byte(tc.replies), split); !errors.Is(err, errVerify) {
					t.Fatalf("split at %d: error %v, want errVerify", split, err)
				}
			}
		})
	}
}

func TestRESPValue(t *testing.T) {
	a, b := loadRESPValue(1, 1000), loadRESPValue(2, 1000)
	if string(a) == string(b) {
		t.Error("connections 1 and 2 have the same value")
	}
	if string(a) != string(loadRESPValue(1, 1000)) {
		t.Error("the value of connection 1 changes")
	}
	for i, c := range a {
		if !strings.ContainsRune(loadRESPAlphabet, rune(c)) {
			t.Fatalf("byte %d of the value is %q, not of the alphabet", i, c)
		}
	}
	p := newRESPLoad(respLoadConfig("set", 8, 1))
	s := p.session(123)
	s.begin(1)
	if got, want := string(s.next()), "*3\r\n$3\r\nSET\r\n$12\r\nkey:00000123\r\n$8\r\n"; !strings.HasPrefix(got, want) {
		t.Errorf("SET of connection 123 is %q, want it to start %q", got, want)
	}
}

// TestRESPSessionAllocs checks that writing and verifying a pipelined batch
// of GETs allocates nothing.
func TestRESPSessionAllocs(t *testing.T) {
	p := newRESPLoad(respLoadConfig("get", 64, 16))
	_, _, value := respWant(0, 64)
	s := p.session(0)
	if _, done, err := exchange(s, 1, []byte("+OK\r\n"), 0); err != nil || done != 1 {
		t.Fatalf("the SET: %d done, err %v", done, err)
	}
	stream := []byte(strings.Repeat(bulk(value), 16))
	var failed error
	allocs := testing.AllocsPerRun(200, func() {
		s.begin(16)
		for s.next() != nil {
		}
		u1, d1, e1 := s.check(stream[:100])
		u2, d2, e2 := s.check(stream[u1:])
		if e1 != nil || e2 != nil || u1+u2 != len(stream) || d1+d2 != 16 {
			failed = fmt.Errorf("used %d+%d, done %d+%d, err %v %v", u1, u2, d1, d2, e1, e2)
		}
	})
	if failed != nil {
		t.Fatal(failed)
	}
	if allocs != 0 {
		t.Errorf("a batch allocates %v times, want 0", allocs)
	}
}
