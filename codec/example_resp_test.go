package codec_test

import (
	"fmt"

	"github.com/pinion-net/pinion/codec"
)

func ExampleParseCommand() {
	// Two pipelined commands, the second as an inline command, and the
	// start of a third.
	in := []byte("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\nGET k\r\n*2\r\n$3\r\nGET")
	var args [][]byte // reused for every command
	var out []byte
	for {
		var n int
		var err error
		args, n, err = codec.ParseCommand(in, args, nil)
		if err != nil {
			out = codec.AppendError(out, "ERR Protocol error: "+err.(*codec.RESPError).Reason)
			break
		}
		if n == 0 {
			break // wait for more input
		}
		in = in[n:]
		fmt.Printf("%q\n", args)
		out = codec.AppendSimple(out, "OK")
	}
	fmt.Printf("%d bytes left; reply %q\n", len(in), out)
	// Output:
	// ["SET" "k" "hello"]
	// ["GET" "k"]
	// 11 bytes left; reply "+OK\r\n+OK\r\n"
}

func ExampleParseReply() {
	in := codec.AppendArrayHeader(nil, 3)
	in = codec.AppendBulkString(in, "v1")
	in = codec.AppendNull(in)
	in = codec.AppendInt(in, 42)

	var r codec.Reply // reuse it: its Elems keep their capacity
	n, err := codec.ParseReply(in, &r, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d bytes, %d elements\n", n, len(r.Elems))
	for _, e := range r.Elems {
		fmt.Printf("%v: %q null=%v int=%d\n", e.Kind, e.Str, e.Null, e.Int)
	}
	// Output:
	// 22 bytes, 3 elements
	// bulk string: "v1" null=false int=0
	// bulk string: "" null=true int=0
	// integer: "" null=false int=42
}
