//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package poller_test

import (
	"fmt"
	"log"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pinion-net/pinion/poller"
)

func ExamplePoller() {
	p, err := poller.Open()
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()

	var fds [2]int
	if err := unix.Pipe(fds[:]); err != nil {
		log.Fatal(err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	unix.SetNonblock(fds[0], true)

	// Watch the read end under generation 7, then make it readable.
	if err := p.Add(fds[0], poller.NewToken(fds[0], 7), poller.Read); err != nil {
		log.Fatal(err)
	}
	if _, err := unix.Write(fds[1], []byte("ping")); err != nil {
		log.Fatal(err)
	}

	events := make([]poller.Event, 8)
	n, err := p.Wait(events, time.Second)
	if err != nil {
		log.Fatal(err)
	}
	for _, ev := range events[:n] {
		fmt.Println("same fd:", ev.Token.FD() == fds[0], "gen:", ev.Token.Gen())
		fmt.Println("readable:", ev.Flags&poller.Readable != 0, "writable:", ev.Flags&poller.Writable != 0, "hang-up:", ev.Flags&poller.HangUp != 0)
	}
	// Output:
	// same fd: true gen: 7
	// readable: true writable: false hang-up: false
}
