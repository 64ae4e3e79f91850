package loop

// heapEntry is an element of a deadline heap: a connection's earliest
// deadline (connEntry) or a scheduled function (timerEntry). Each is 16
// bytes; place tells the element where it now sits (-1: out of the heap),
// so that it can be moved or removed later.
type heapEntry interface {
	connEntry | timerEntry
	at() int64
	place(i int)
}

// heapIndex is a position in a deadline heap in 3 bytes, so that Conn
// keeps to 64: the position plus one, 0 for none. So a heap holds at most
// maxHeapLen entries.
type heapIndex [3]byte

const maxHeapLen = 1<<24 - 2

func (x heapIndex) get() int { return int(x[0]) | int(x[1])<<8 | int(x[2])<<16 - 1 }

func (x *heapIndex) set(i int) {
	v := i + 1
	x[0], x[1], x[2] = byte(v), byte(v>>8), byte(v>>16)
}

// connEntry is a connection's deadline; c.tidx is its index.
type connEntry struct {
	when int64
	c    *Conn
}

func (e connEntry) at() int64    { return e.when }
func (e connEntry) place(i int)  { e.c.tidx.set(i) }
func (e timerEntry) at() int64   { return e.when }
func (e timerEntry) place(i int) { e.t.idx = i }

// timerEntry is a function scheduled with Schedule; t.idx is its index.
type timerEntry struct {
	when int64
	t    *Timer
}

// heapBlockLen is how many entries one block of a heap holds: 4 KiB.
const (
	heapBlockShift = 8
	heapBlockLen   = 1 << heapBlockShift
)

// heap is a binary min-heap by time. Its entries live in blocks of
// heapBlockLen, so that growing never copies the entries already there or
// leaves the old array as garbage (with one entry per idle connection,
// that garbage was a large share of a connection's memory), and shrinking
// hands blocks back. Only the last block is partly filled.
type heap[E heapEntry] struct {
	blocks [][]E
	n      int
}

func (h *heap[E]) len() int { return h.n }

func (h *heap[E]) item(i int) *E { return &h.blocks[i>>heapBlockShift][i&(heapBlockLen-1)] }

// next returns the earliest time in the heap.
func (h *heap[E]) next() (int64, bool) {
	if h.n == 0 {
		return 0, false
	}
	return (*h.item(0)).at(), true
}

func (h *heap[E]) less(i, j int) bool { return (*h.item(i)).at() < (*h.item(j)).at() }

func (h *heap[E]) swap(i, j int) {
	a, b := h.item(i), h.item(j)
	*a, *b = *b, *a
	(*a).place(i)
	(*b).place(j)
}

func (h *heap[E]) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(i, p) {
			return
		}
		h.swap(i, p)
		i = p
	}
}

func (h *heap[E]) down(i int) {
	for {
		m := i
		if l := 2*i + 1; l < h.n && h.less(l, m) {
			m = l
		}
		if r := 2*i + 2; r < h.n && h.less(r, m) {
			m = r
		}
		if m == i {
			return
		}
		h.swap(i, m)
		i = m
	}
}

func (h *heap[E]) push(e E) {
	if h.n >= maxHeapLen {
		panic("loop: more than 16,777,214 deadlines in one loop's heap")
	}
	b := h.n >> heapBlockShift
	if b == len(h.blocks) {
		// The first block grows as a slice does; the others are made whole.
		h.blocks = append(h.blocks, make([]E, 0, min(heapBlockLen, max(8, h.n))))
	}
	h.blocks[b] = append(h.blocks[b], e)
	i := h.n
	h.n++
	e.place(i)
	h.up(i)
}

// pop removes the last entry and returns it, giving back a block once the
// one before the last is empty too (a spare block stays, so a count going
// up and down across a block boundary does not make and drop one each
// time).
func (h *heap[E]) pop() E {
	h.n--
	b := h.n >> heapBlockShift
	blk := h.blocks[b]
	e := blk[len(blk)-1]
	var zero E
	blk[len(blk)-1] = zero
	h.blocks[b] = blk[:len(blk)-1]
	if last := len(h.blocks) - 1; last >= 1 && len(h.blocks[last]) == 0 && len(h.blocks[last-1]) == 0 {
		h.blocks[last] = nil
		h.blocks = h.blocks[:last]
	}
	return e
}

// removeAt removes entry i and returns it, placed at -1: unarmed.
func (h *heap[E]) removeAt(i int) E {
	last := h.n - 1
	if i != last {
		h.swap(i, last)
	}
	e := h.pop()
	if i != last {
		h.down(i)
		h.up(i)
	}
	e.place(-1)
	return e
}

// fix replaces entry i with e, at its new place by time.
func (h *heap[E]) fix(i int, e E) {
	*h.item(i) = e
	h.down(i)
	h.up(i)
}
