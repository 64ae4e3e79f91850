package buffer

// Detach moves c's queued bytes into a new chain and leaves c with none,
// keeping its callbacks (which Reset then hands back as usual). The loop's
// io_uring backend uses it when a connection closes with a send in flight:
// the kernel may still read those chunks, so they must not go back to the
// pool until the send's completion arrives. The returned chain is released
// with Reset.
func (c *Chain) Detach() Chain {
	d := Chain{head: c.head, tail: c.tail, written: c.written, discarded: c.discarded}
	c.head, c.tail = nil, nil
	c.discarded = c.written
	return d
}
