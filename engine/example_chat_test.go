package engine_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"sync"

	"github.com/pinion-net/pinion/codec"
	"github.com/pinion-net/pinion/engine"
)

// chatRoom fans every line a member sends out to every member, the sender
// included. Members live on any loop, so the room keeps their Handles,
// which are comparable values that work from any goroutine.
type chatRoom struct {
	engine.BaseHandler
	lines   *codec.Line
	mu      sync.Mutex
	members map[engine.Handle]struct{}
}

func (r *chatRoom) OnOpen(c *engine.Conn) {
	r.mu.Lock()
	r.members[c.Handle()] = struct{}{}
	r.mu.Unlock()
}

func (r *chatRoom) OnData(c *engine.Conn) {
	for {
		line, err := r.lines.Decode(c) // a *Conn is a codec.Source
		if err != nil {
			_ = c.CloseWithError(err) // a line over the limit
			return
		}
		if line == nil {
			return // the rest of a line stays buffered
		}
		// line is valid only during the callback, and AsyncWrite wants its
		// bytes untouched until written: one copy serves every member.
		msg := append(append([]byte(nil), line...), '\n')
		r.mu.Lock()
		for h := range r.members {
			_ = h.AsyncWrite(msg, nil) // ErrClosed for a member leaving now
		}
		r.mu.Unlock()
	}
}

func (r *chatRoom) OnClose(c *engine.Conn, _ error) {
	r.mu.Lock()
	delete(r.members, c.Handle())
	r.mu.Unlock()
}

// A chat server: lines from any connection go to every connection, on
// whichever loop each one lives.
func Example_chat() {
	lines, _ := codec.NewLine(1 << 10)
	room := &chatRoom{lines: lines, members: make(map[engine.Handle]struct{})}
	e, err := engine.Start(room, engine.Config{Addrs: []string{"127.0.0.1:0"}, Loops: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer e.Shutdown(context.Background())
	addr := e.Addrs()[0].String()

	// Each member says it joined and reads that back: then it is in the
	// room, and what follows reaches it.
	join := func(name string) (net.Conn, *bufio.Reader) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			panic(err)
		}
		br := bufio.NewReader(c)
		fmt.Fprintf(c, "%s joined\n", name)
		line, _ := br.ReadString('\n')
		fmt.Printf("%s reads: %s", name, line)
		return c, br
	}
	ann, annIn := join("ann")
	defer ann.Close()
	bob, bobIn := join("bob")
	defer bob.Close()
	line, _ := annIn.ReadString('\n')
	fmt.Printf("ann reads: %s", line)

	fmt.Fprintln(ann, "hello, bob")
	for name, in := range map[string]*bufio.Reader{"ann": annIn, "bob": bobIn} {
		line, _ := in.ReadString('\n')
		fmt.Printf("%s reads: %s", name, line)
	}
	// Unordered output:
	// ann reads: ann joined
	// bob reads: bob joined
	// ann reads: bob joined
	// ann reads: hello, bob
	// bob reads: hello, bob
}
