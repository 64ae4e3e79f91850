package buffer

// chunk is one fixed-size buffer, either queued in a Chain or free in a
// Pool.
//
// Invariants: while the chunk is in a chain, buf[r:w] are its queued bytes
// and 0 <= r < w <= len(buf); while it is free in a pool, r == w == 0.
// len(buf) is the chunk size of the pool that made it and never changes.
type chunk struct {
	buf  []byte
	r, w int
	next *chunk // next chunk in the chain or in the pool's free list
}

// Pool is a free list of fixed-size chunks for one event loop.
//
// A Pool is owned by the event loop goroutine and is not safe for concurrent
// use. Taking a chunk from a pool with free chunks and returning one do not
// allocate.
type Pool struct {
	size    int    // bytes per chunk; > 0
	maxFree int    // most free chunks kept; >= 0
	free    *chunk // free list linked through next; nil iff nfree == 0
	nfree   int    // length of the free list; 0 <= nfree <= maxFree

	// first, when not 0, is the size of the smaller chunks that start a
	// chain whose first write fits in one (SetFirstChunk); they have a
	// free list of their own, as long as the other at most.
	first      int
	firstFree  *chunk
	nfirstFree int
}

// NewPool returns a pool of chunks of chunkSize bytes keeping at most
// maxFree free chunks (beyond that, returned chunks are dropped for the GC).
// It panics if chunkSize is not positive or maxFree is negative.
func NewPool(chunkSize, maxFree int) *Pool {
	if chunkSize <= 0 {
		panic("buffer: NewPool: chunkSize must be positive")
	}
	if maxFree < 0 {
		panic("buffer: NewPool: maxFree must not be negative")
	}
	return &Pool{size: chunkSize, maxFree: maxFree}
}

// ChunkSize returns the size in bytes of the chunks the pool hands out
// (but for the first chunks of SetFirstChunk).
func (p *Pool) ChunkSize() int { return p.size }

// SetFirstChunk makes the pool start a chain with a chunk of size bytes
// when its first write fits in one (0: never). A chain whose bytes stay
// queued a while, a send in flight on io_uring, then holds size bytes for
// a short reply, not ChunkSize: the memory a burst of replies touches is
// what they need. It panics unless 0 <= size < ChunkSize. Call it before
// the pool hands out chunks.
func (p *Pool) SetFirstChunk(size int) {
	if size < 0 || size >= p.size {
		panic("buffer: Pool.SetFirstChunk: size must be within [0, ChunkSize)")
	}
	p.first = size
}

// getFirst returns an empty chunk to start a chain whose first write is n
// bytes: a first-size one when it fits, else get's.
func (p *Pool) getFirst(n int) *chunk {
	if n > p.first {
		return p.get()
	}
	ch := p.firstFree
	if ch == nil {
		return &chunk{buf: make([]byte, p.first)}
	}
	p.firstFree = ch.next
	p.nfirstFree--
	ch.next = nil
	return ch
}

// Free returns the number of free chunks the pool holds now. It is meant for
// tests and statistics.
func (p *Pool) Free() int { return p.nfree }

// get returns an empty chunk, reusing a free one when there is one and
// allocating otherwise. The chunk is detached: its next is nil.
func (p *Pool) get() *chunk {
	ch := p.free
	if ch == nil {
		return &chunk{buf: make([]byte, p.size)}
	}
	p.free = ch.next
	p.nfree--
	ch.next = nil
	return ch
}

// put takes back a chunk that no chain refers to any more. The chunk's next
// is overwritten, so callers walking a list must read it first. It panics if
// the chunk was made by a pool of another chunk size, since mixing sizes
// would hand out chunks of the wrong length.
func (p *Pool) put(ch *chunk) {
	if len(ch.buf) == p.first && p.first > 0 {
		ch.r, ch.w = 0, 0
		ch.next = nil
		if p.nfirstFree < p.maxFree {
			ch.next = p.firstFree
			p.firstFree = ch
			p.nfirstFree++
		}
		return
	}
	if len(ch.buf) != p.size {
		panic("buffer: Pool.put: chunk size differs from the pool's chunk size")
	}
	ch.r, ch.w = 0, 0
	if p.nfree >= p.maxFree {
		ch.next = nil // dropped for the GC; keep no link into live lists
		return
	}
	ch.next = p.free
	p.free = ch
	p.nfree++
}
