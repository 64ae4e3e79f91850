package loop_test

import (
	"fmt"

	"github.com/pinion-net/pinion/internal/loop"
)

// ExampleLoop runs a loop with no listener on a goroutine of its own, asks
// it to run a function (Post is safe from any goroutine), and stops it.
func ExampleLoop() {
	l, err := loop.New(loop.Config{Handler: loop.BaseHandler{}})
	if err != nil {
		fmt.Println(err)
		return
	}
	go l.Run()

	err = l.Post(func() {
		// On the loop's goroutine: loop-only methods are allowed here.
		fmt.Printf("loop %d owns %d connections\n", l.ID(), l.Conns())
		_ = l.Abort()
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	<-l.Done()

	// A stopped loop refuses work.
	fmt.Println(l.Post(func() {}))
	// Output:
	// loop 0 owns 0 connections
	// loop: loop stopped
}
