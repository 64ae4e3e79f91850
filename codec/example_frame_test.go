package codec_test

import (
	"encoding/binary"
	"fmt"

	"github.com/pinion-net/pinion/codec"
)

// A protocol whose messages start with a 2-byte big-endian body length:
// Append writes them, Decode hands back the bodies, and a header that
// declares more than Max is refused before its body arrives.
func ExampleLengthField() {
	dec, err := codec.NewLengthField(codec.LengthField{
		Max:    1024,
		Length: 2,
		Order:  binary.BigEndian,
		Strip:  2, // return the body only
	})
	if err != nil {
		panic(err)
	}
	var wire []byte
	for _, msg := range []string{"hello", "", "pinion"} {
		if wire, err = dec.Append(wire, []byte(msg)); err != nil {
			panic(err)
		}
	}
	fmt.Printf("wire: % x\n", wire)

	src := &codec.Bytes{B: wire[:len(wire)-1]} // the last byte has not arrived
	for {
		body, err := dec.Decode(src)
		if err != nil || body == nil {
			break
		}
		fmt.Printf("frame %q\n", body)
	}
	fmt.Println("buffered:", src.Buffered())

	_, err = dec.Decode(&codec.Bytes{B: []byte{0xff, 0xff}})
	fmt.Println(err)
	// Output:
	// wire: 00 05 68 65 6c 6c 6f 00 00 00 06 70 69 6e 69 6f 6e
	// frame "hello"
	// frame ""
	// buffered: 7
	// codec: length field frame of 65537 bytes exceeds the limit of 1024
}

// Lines end with "\n" or "\r\n"; an empty line is an empty frame, and nil
// means more input is needed.
func ExampleLine() {
	dec, err := codec.NewLine(64)
	if err != nil {
		panic(err)
	}
	src := &codec.Bytes{B: []byte("PING\r\n\r\nECHO hi\nGET")}
	for {
		line, err := dec.Decode(src)
		if err != nil || line == nil {
			break
		}
		fmt.Printf("%q\n", line)
	}
	fmt.Printf("left: %q\n", src.B)
	// Output:
	// "PING"
	// ""
	// "ECHO hi"
	// left: "GET"
}
