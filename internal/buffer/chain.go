package buffer

import "fmt"

// Chain is an ordered queue of outbound bytes stored in pooled chunks,
// plus completion callbacks attached at byte positions.
//
// The zero value is an empty chain ready to use. A Chain is owned by the
// event loop goroutine and is not safe for concurrent use. Every chunk a
// chain holds comes from, and goes back to, the Pool passed to its methods;
// one chain must always be used with the same pool.
//
// A Chain must not be copied once it holds bytes or callbacks: the copy
// would share its chunks. Len and Pending may be called on a nil *Chain,
// which is empty, so that an owner can keep a chain only while it holds
// something.
type Chain struct {
	// head and tail are the first and last chunk of a singly linked list.
	// Invariants: head == nil iff tail == nil iff Len() == 0, and every
	// chunk in the list holds at least one queued byte (r < w). Only the
	// tail may have room left (w < len(buf)); chunks before it are full up
	// to w == len(buf).
	head, tail *chunk

	// written and discarded count the bytes ever appended and ever
	// dropped. Invariant: discarded <= written, and the bytes queued in the
	// chunks number exactly written - discarded.
	written, discarded uint64

	// cbs holds the recorded callbacks out of line so that a chain without
	// any stays small. Invariant: cbs == nil iff no callback is recorded.
	cbs *waiters
}

// Len returns the number of bytes queued and not yet discarded.
func (c *Chain) Len() int {
	if c == nil {
		return 0
	}
	return int(c.written - c.discarded)
}

// Write appends a copy of b, filling the tail chunk first and then taking
// chunks from p one after another; it never keeps a reference to b. A large
// b is spread over as many chunks as it needs, with no allocation of len(b).
// p may be nil only when b is empty.
func (c *Chain) Write(p *Pool, b []byte) {
	for len(b) > 0 {
		t := c.tail
		if t == nil || t.w == len(t.buf) {
			if c.tail == nil && p.first > 0 {
				t = p.getFirst(len(b))
			} else {
				t = p.get()
			}
			if c.tail == nil {
				c.head = t
			} else {
				c.tail.next = t
			}
			c.tail = t
		}
		n := copy(t.buf[t.w:], b)
		t.w += n
		b = b[n:]
		c.written += uint64(n)
	}
}

// Segments appends to iov, in order, slices of the queued bytes (no
// copying), at most max of them and stopping once limit bytes are covered
// (limit <= 0: no byte limit). With max <= 0 it appends nothing. Together
// the appended slices are the first bytes of the chain, none of them empty.
//
// The slices stay valid until the next Discard, Write or Reset on c. They
// are capped at their length, so appending to one never overwrites the
// chain's spare room.
func (c *Chain) Segments(iov [][]byte, max, limit int) [][]byte {
	covered := 0
	for ch := c.head; ch != nil && max > 0; ch = ch.next {
		seg := ch.buf[ch.r:ch.w:ch.w]
		if limit > 0 && len(seg) >= limit-covered {
			return append(iov, seg[:limit-covered])
		}
		iov = append(iov, seg)
		covered += len(seg)
		max--
	}
	return iov
}

// Discard drops the first n bytes, returning emptied chunks to p. It panics
// if n is negative or greater than Len(), since that means the caller lost
// track of what it queued. p may be nil only when n is zero.
func (c *Chain) Discard(p *Pool, n int) {
	if n < 0 || n > c.Len() {
		panic(fmt.Sprintf("buffer: Chain.Discard(%d) with Len() == %d: n must be within [0, Len()]", n, c.Len()))
	}
	c.discarded += uint64(n)
	for n > 0 {
		h := c.head
		k := h.w - h.r
		if n < k {
			h.r += n
			return
		}
		n -= k
		c.head = h.next
		p.put(h)
	}
	if c.head == nil {
		c.tail = nil
	}
}

// Reset drops all queued bytes, returning the chunks to p, and appends
// every pending callback (due or not) to dst, in the order they were added,
// returning dst. Afterwards c owns no chunks and records no callbacks; the
// caller decides which error to pass to the callbacks it got back. p may be
// nil only when Len() is zero.
func (c *Chain) Reset(p *Pool, dst []func(error)) []func(error) {
	for ch := c.head; ch != nil; {
		next := ch.next
		p.put(ch)
		ch = next
	}
	c.head, c.tail = nil, nil
	c.discarded = c.written
	if c.cbs != nil {
		for _, w := range c.cbs.list {
			dst = append(dst, w.done)
		}
		c.cbs = nil
	}
	return dst
}
