package codec

import (
	"runtime"
	"testing"
)

// respAllocs fails unless fn, once warmed up, allocates want times per run.
func respAllocs(t *testing.T, name string, want float64, fn func()) {
	t.Helper()
	if got := testing.AllocsPerRun(100, fn); got != want {
		t.Errorf("%s: %v allocations per run, want %v", name, got, want)
	}
}

func TestRESPCommandAllocs(t *testing.T) {
	set := []byte("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n")
	inline := []byte("SET key value\r\n")
	args := make([][]byte, 0, 8)
	respAllocs(t, "ParseCommand SET", 0, func() {
		args, _, _ = ParseCommand(set, args, nil)
	})
	respAllocs(t, "ParseCommand inline", 0, func() {
		args, _, _ = ParseCommand(inline, args, nil)
	})
	respAllocs(t, "ParseCommand incomplete", 0, func() {
		args, _, _ = ParseCommand(set[:20], args, nil)
	})
	malformed := []byte("*1\r\n$-5\r\n")
	respAllocs(t, "ParseCommand malformed", 0, func() {
		args, _, _ = ParseCommand(malformed, args, nil)
	})
	src := &Bytes{}
	respAllocs(t, "DecodeCommand", 0, func() {
		src.B = set
		args, _, _ = DecodeCommand(src, args, nil)
	})
}

// TestRESPOversizedHeaderAllocs checks that a declared size over the limit
// is refused at once, allocating nothing but the error itself: never
// anything of the declared size.
func TestRESPOversizedHeaderAllocs(t *testing.T) {
	var args [][]byte
	var r Reply
	count, bulk := []byte("*99999999999\r\n"), []byte("*1\r\n$1099511627776\r\n")
	for _, tc := range []struct {
		name string
		fn   func() error
	}{
		{"command count", func() (err error) { _, _, err = ParseCommand(count, args, nil); return }},
		{"command bulk", func() (err error) { _, _, err = ParseCommand(bulk, args, nil); return }},
		{"reply array", func() (err error) { _, err = ParseReply(count, &r, nil); return }},
		{"reply bulk", func() (err error) { _, err = ParseReply(bulk[4:], &r, nil); return }},
	} {
		if tc.fn() == nil {
			t.Fatalf("%s: no error", tc.name)
		}
		respAllocs(t, tc.name, 1, func() { _ = tc.fn() })
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		const runs = 1000
		for range runs {
			_ = tc.fn()
		}
		runtime.ReadMemStats(&after)
		if per := (after.TotalAlloc - before.TotalAlloc) / runs; per > 256 {
			t.Errorf("%s: %d bytes allocated per refusal", tc.name, per)
		}
	}
}

func TestRESPReplyAllocs(t *testing.T) {
	in := []byte("*3\r\n$3\r\nfoo\r\n*2\r\n:1\r\n+OK\r\n$-1\r\n")
	var r Reply
	respAllocs(t, "ParseReply nested", 0, func() {
		_, _ = ParseReply(in, &r, nil)
	})
	respAllocs(t, "ParseReply incomplete", 0, func() {
		_, _ = ParseReply(in[:25], &r, nil)
	})
	malformed := []byte(":01\r\n")
	respAllocs(t, "ParseReply malformed", 0, func() {
		_, _ = ParseReply(malformed, &r, nil)
	})
}

func TestRESPAppendAllocs(t *testing.T) {
	buf := make([]byte, 0, 1024)
	value, k, v := []byte("value"), []byte("key"), []byte("v")
	respAllocs(t, "replies", 0, func() {
		buf = AppendSimple(buf[:0], "OK")
		buf = AppendError(buf, "ERR unknown command")
		buf = AppendInt(buf, 12345)
		buf = AppendBulk(buf, value)
		buf = AppendBulkString(buf, "hello")
		buf = AppendNull(buf)
		buf = AppendArrayHeader(buf, 2)
		buf = AppendNullArray(buf)
	})
	respAllocs(t, "AppendCommand", 0, func() {
		buf = AppendCommand(buf[:0], []byte("SET"), k, v)
	})
}
