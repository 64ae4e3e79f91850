package buffer

import (
	"bytes"
	"testing"
)

// FuzzChain reads its input as a program for one chain and checks every
// step against a plain byte-slice model.
//
// The first byte picks the chunk size (1 to 16) and the second the pool's
// maxFree (0 to 3); small chunks put chunk boundaries everywhere. Each
// following byte is an operation, some of which take one or two argument
// bytes; a missing argument reads as zero.
func FuzzChain(f *testing.F) {
	f.Add([]byte{3, 1, 0, 10, 3, 4, 7, 4, 2, 5, 5})
	f.Add([]byte{0, 0, 4, 5, 1, 200, 2, 255, 5, 6})
	f.Add([]byte{15, 2, 0, 40, 4, 0, 9, 4, 2, 20, 3, 3, 30, 5, 2, 255, 5})
	f.Fuzz(func(t *testing.T, prog []byte) {
		runProgram(t, prog)
	})
}

// modelWaiter is a callback the model expects to become due at at.
type modelWaiter struct {
	id int
	at uint64
}

// runProgram interprets prog as described on FuzzChain.
func runProgram(t *testing.T, prog []byte) {
	next := func() int {
		if len(prog) == 0 {
			return 0
		}
		b := prog[0]
		prog = prog[1:]
		return int(b)
	}
	chunkSize, maxFree := 1+next()%16, next()%4
	p := NewPool(chunkSize, maxFree)
	var c Chain

	var model []byte
	var written, discarded uint64
	var waiting []modelWaiter // recorded and not yet handed out, in order
	calls := map[int]int{}    // id -> times called
	nextID := 0
	var fns []func(error)

	// handOut runs callbacks returned by the chain and checks they are
	// exactly the first len(want) waiting ones.
	handOut := func(op string, got []func(error), want []modelWaiter) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s handed out %d callbacks, want %d", op, len(got), len(want))
		}
		for i, fn := range got {
			before := calls[want[i].id]
			fn(nil)
			if calls[want[i].id] != before+1 || calls[want[i].id] != 1 {
				t.Fatalf("%s: callback %d of %d was not callback id %d or ran twice", op, i, len(got), want[i].id)
			}
		}
	}

	for len(prog) > 0 {
		switch op := next() % 7; op {
		case 0, 1: // write a short or a long run
			n := next()
			if op == 1 {
				n = n*17 + next()
			}
			b := pattern(written, n)
			c.Write(p, b)
			model = append(model, b...)
			written += uint64(n)
		case 2: // discard some prefix
			n := next() % (len(model) + 1)
			c.Discard(p, n)
			model = model[n:]
			discarded += uint64(n)
		case 3: // segments with a max and a limit
			max := next()%6 - 1
			limit := next()%(len(model)+2) - 1
			iov := c.Segments(nil, max, limit)
			checkSegments(t, iov, model, max, limit)
		case 4: // record a callback
			id := nextID
			nextID++
			c.OnFlushed(func(error) { calls[id]++ })
			waiting = append(waiting, modelWaiter{id: id, at: written})
		case 5: // take due callbacks
			due := 0
			for due < len(waiting) && waiting[due].at <= discarded {
				due++
			}
			fns = c.TakeDue(fns[:0])
			handOut("TakeDue", fns, waiting[:due])
			waiting = waiting[due:]
		case 6: // reset
			fns = c.Reset(p, fns[:0])
			handOut("Reset", fns, waiting)
			waiting = nil
			model = model[:0]
			discarded = written
		}
		if got := c.Len(); got != len(model) {
			t.Fatalf("Len() = %d, want %d", got, len(model))
		}
		if got, want := c.Pending(), len(waiting) > 0; got != want {
			t.Fatalf("Pending() = %v, want %v", got, want)
		}
		if got := p.Free(); got > maxFree {
			t.Fatalf("Free() = %d, want <= maxFree %d", got, maxFree)
		}
	}
	checkChain(t, &c, model)
	fns = c.Reset(p, fns[:0])
	handOut("final Reset", fns, waiting)
	if len(calls) != nextID {
		t.Fatalf("%d of %d callbacks ran", len(calls), nextID)
	}
}

// checkSegments fails t unless iov is a valid answer of Segments(max, limit)
// on a chain holding model.
func checkSegments(t *testing.T, iov [][]byte, model []byte, max, limit int) {
	t.Helper()
	if len(iov) > max && len(iov) > 0 {
		t.Fatalf("Segments returned %d slices, want at most max %d", len(iov), max)
	}
	var got []byte
	for i, seg := range iov {
		if len(seg) == 0 {
			t.Fatalf("segment %d is empty", i)
		}
		got = append(got, seg...)
	}
	if limit > 0 && len(got) > limit {
		t.Fatalf("Segments covered %d bytes, want at most limit %d", len(got), limit)
	}
	if !bytes.Equal(got, model[:len(got)]) {
		t.Fatalf("segments = %q, want a prefix of %q", got, model)
	}
	want := len(model)
	if limit > 0 {
		want = min(want, limit)
	}
	if max > 0 && len(iov) < max && len(got) != want {
		t.Fatalf("Segments stopped at %d bytes with %d of %d slices, want %d bytes", len(got), len(iov), max, want)
	}
}
