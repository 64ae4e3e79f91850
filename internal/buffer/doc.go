// Package buffer holds the outbound bytes of a connection and the chunk
// pool they are stored in.
//
// A [Pool] is a free list of fixed-size chunks belonging to one event loop.
// A [Chain] is the queue of bytes a connection still has to hand to the
// kernel: [Chain.Write] copies bytes into pooled chunks, [Chain.Segments]
// lends them out as an iovec for writev(2), and [Chain.Discard] drops what
// the kernel accepted and gives emptied chunks back to the pool.
//
// # Ownership
//
// Everything in this package belongs to the single goroutine that runs the
// event loop owning the pool and the connections. No type here is safe for
// concurrent use, and none needs to be: a Chain and the Pool its chunks come
// from are only ever touched by that goroutine. Cross-goroutine writes reach
// a chain through the loop's queue, never directly.
//
// # Memory
//
// A Chain is embedded by value in every connection, so it is kept small and
// its zero value is an empty, usable chain. An empty chain owns no chunks
// and a chain without callbacks owns no callback storage, so an idle
// connection holds no buffer memory at all. The pool keeps at most a
// configured number of free chunks; chunks returned beyond that are left to
// the garbage collector.
//
// # Positions and callbacks
//
// A chain counts the bytes ever written to it and ever discarded from it.
// [Chain.OnFlushed] tags a callback with the written count at the time it is
// added; the callback becomes due once the discarded count reaches that tag,
// that is once every byte written before it has left the chain.
// [Chain.TakeDue] hands due callbacks to the caller, which runs them outside
// the chain; the chain itself never calls them.
package buffer
