package buffer

// waiter is one recorded callback: done is due once the chain's discarded
// count reaches at.
type waiter struct {
	at   uint64
	done func(error)
}

// waiters is the out-of-line callback list of a Chain.
//
// Invariants: list is non-empty while a chain points at it, and its at
// values never decrease, because each is the chain's written count when the
// callback was added and that count only grows. So the due callbacks always
// form a prefix of list.
type waiters struct {
	list []waiter
	// inline backs list for the first few callbacks, so a chain with one
	// or two outstanding callbacks costs a single allocation.
	inline [2]waiter
}

// OnFlushed records done to be due once every byte written to the chain so
// far has been discarded. If the chain is empty now, done is due
// immediately (TakeDue will return it). The chain never calls done itself;
// it hands it out through TakeDue or Reset exactly once. It panics if done
// is nil.
func (c *Chain) OnFlushed(done func(error)) {
	if done == nil {
		panic("buffer: Chain.OnFlushed: done must not be nil")
	}
	if c.cbs == nil {
		c.cbs = &waiters{}
		c.cbs.list = c.cbs.inline[:0]
	}
	c.cbs.list = append(c.cbs.list, waiter{at: c.written, done: done})
}

// TakeDue appends to dst the callbacks whose bytes have all been
// discarded, in the order they were added, removes them, and returns dst.
// It does not allocate when dst has room for the due callbacks.
func (c *Chain) TakeDue(dst []func(error)) []func(error) {
	if c.cbs == nil {
		return dst
	}
	list := c.cbs.list
	i := 0
	for i < len(list) && list[i].at <= c.discarded {
		dst = append(dst, list[i].done)
		i++
	}
	switch {
	case i == len(list):
		c.cbs = nil // nothing left: an idle chain holds no callback storage
	case i > 0:
		n := copy(list, list[i:])
		clear(list[n:]) // let the GC have the callbacks handed out
		c.cbs.list = list[:n]
	}
	return dst
}

// Pending reports whether any callbacks are recorded, due or not.
func (c *Chain) Pending() bool { return c != nil && c.cbs != nil }
