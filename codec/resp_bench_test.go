package codec

import "testing"

func BenchmarkParseCommandSET(b *testing.B) {
	in := AppendCommand(nil, []byte("SET"), []byte("key:000001"), []byte("value-of-sixteen"))
	args := make([][]byte, 0, 8)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if args, _, err = ParseCommand(in, args, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseCommandPipelined16(b *testing.B) {
	var in []byte
	for i := range 16 {
		if i%2 == 0 {
			in = AppendCommand(in, []byte("SET"), []byte("key:000001"), []byte("value-of-sixteen"))
		} else {
			in = AppendCommand(in, []byte("GET"), []byte("key:000001"))
		}
	}
	args := make([][]byte, 0, 8)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		for p := in; len(p) > 0; {
			var n int
			var err error
			if args, n, err = ParseCommand(p, args, nil); err != nil || n == 0 {
				b.Fatal(n, err)
			}
			p = p[n:]
		}
	}
}

func BenchmarkParseReply(b *testing.B) {
	// An MGET of three keys, one missing.
	var in []byte
	in = AppendArrayHeader(in, 3)
	in = AppendBulkString(in, "value-of-sixteen")
	in = AppendNull(in)
	in = AppendBulkString(in, "another-value")
	var r Reply
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseReply(in, &r, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendBulk(b *testing.B) {
	value := make([]byte, 64)
	buf := make([]byte, 0, 256)
	b.SetBytes(int64(len(value)))
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendBulk(buf[:0], value)
	}
}
