package buffer_test

import (
	"fmt"

	"github.com/pinion-net/pinion/internal/buffer"
)

func Example() {
	p := buffer.NewPool(8, 4)
	var c buffer.Chain // the zero value is an empty chain

	c.Write(p, []byte("hello, pinion"))
	c.OnFlushed(func(err error) { fmt.Println("flushed, err =", err) })

	// Lend the bytes out as an iovec, as a writev(2) call would take them.
	iov := c.Segments(nil, 16, 0)
	fmt.Printf("%d segments: %q %q\n", len(iov), iov[0], iov[1])

	// Pretend the kernel took 10 bytes, then the rest.
	c.Discard(p, 10)
	fmt.Println("due after 10 bytes:", len(c.TakeDue(nil)))
	c.Discard(p, c.Len())
	for _, done := range c.TakeDue(nil) {
		done(nil)
	}
	fmt.Println("queued:", c.Len(), "free chunks:", p.Free())
	// Output:
	// 2 segments: "hello, p" "inion"
	// due after 10 bytes: 0
	// flushed, err = <nil>
	// queued: 0 free chunks: 2
}
