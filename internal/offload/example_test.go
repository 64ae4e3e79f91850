package offload_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/pinion-net/pinion/internal/offload"
)

// A pool refuses work beyond its queue instead of blocking the submitter,
// and tells it through OnRoom when a slot frees.
func Example() {
	room := make(chan struct{}, 1)
	p, err := offload.New(offload.Config{
		Workers: 1,
		Queue:   2,
		OnRoom:  func() { room <- struct{}{} },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	gate, running := make(chan struct{}), make(chan struct{})
	var done atomic.Int64
	_ = p.TrySubmit(func() { close(running); <-gate; done.Add(1) }) // occupies the worker
	<-running
	for i := range 3 {
		err := p.TrySubmit(func() { done.Add(1) })
		fmt.Printf("job %d: full=%v\n", i, errors.Is(err, offload.ErrFull))
	}
	close(gate)
	<-room // the worker took a queued job: there is room again
	fmt.Println("retry:", p.TrySubmit(func() { done.Add(1) }))
	if err := p.Close(context.Background()); err != nil {
		fmt.Println(err)
	}
	s := p.Stats()
	fmt.Printf("ran %d, submitted %d, refused %d\n", done.Load(), s.Submitted, s.Rejected)
	fmt.Println("after Close:", p.TrySubmit(func() {}))
	// Output:
	// job 0: full=false
	// job 1: full=false
	// job 2: full=true
	// retry: <nil>
	// ran 4, submitted 4, refused 1
	// after Close: offload: pool closed
}
