package codec

import (
	"bytes"
	"time"
)

// StaticResponse is a response whose status, Content-Type, body and Server
// never change, such as a server's answer to a fixed route. It is rendered
// once, by AppendResponse itself, and cut around its Date: appending it is
// then three copies (the part before the Date, the Date from a DateCache,
// the rest with the body) instead of formatting each field again.
//
// A StaticResponse is only read once made, so one may be shared by any
// number of goroutines; each still needs its own DateCache.
type StaticResponse struct {
	head  []byte // from the status line to "Date: "
	keep  []byte // after the Date: the fields left, the empty line and the body
	close []byte // keep with "Connection: close"
	body  int    // the body's length, the end of keep and close
}

// staticDate stands in for the Date while a StaticResponse is rendered;
// any instant will do, since only the Date's length (fixed) matters.
var staticDate = time.Unix(0, 0)

// NewStaticResponse renders the response that AppendResponse writes for
// status, contentType, body and server, with the same requirements on
// them. body is copied.
func NewStaticResponse(status int, contentType string, body []byte, server string) *StaticResponse {
	var d DateCache
	date := d.Append(nil, staticDate)
	keep := AppendResponse(nil, status, contentType, body, true, server, &d, staticDate)
	closing := AppendResponse(nil, status, contentType, body, false, server, &d, staticDate)
	// The Date is the one field both renderings share at the same place:
	// it follows "Date: ", the first occurrence of which ends the head
	// (a server or reason phrase cannot hold CR LF, and the status line
	// and Server come first).
	at := bytes.Index(keep, []byte("\r\nDate: ")) + len("\r\nDate: ")
	if at < len("\r\nDate: ") || string(keep[at:at+len(date)]) != string(date) {
		panic("codec: NewStaticResponse: no Date where AppendResponse puts it")
	}
	return &StaticResponse{
		head:  keep[:at:at],
		keep:  keep[at+len(date):],
		close: closing[at+len(date):],
		body:  len(body),
	}
}

// Append appends the response to dst and returns the extended slice: as
// AppendResponse would with the same status, contentType, body and server,
// keepAlive, d and now. It never allocates when dst has room.
func (s *StaticResponse) Append(dst []byte, keepAlive bool, d *DateCache, now time.Time) []byte {
	dst = append(dst, s.head...)
	dst = d.Append(dst, now)
	if keepAlive {
		return append(dst, s.keep...)
	}
	return append(dst, s.close...)
}

// BodyLen returns the length of the response's body, the last bytes that
// Append writes.
func (s *StaticResponse) BodyLen() int { return s.body }

// ResponseCache keeps the last few StaticResponses appended through it
// whole, Date included, so that appending one again within the same second
// is a single copy instead of three and a date check. A server answering
// the same fixed routes many times a second (pipelined benchmarks, health
// checks) does most of its response work here.
//
// The zero value is ready to use and keeps responses up to
// DefaultResponseCacheBytes long; a longer one is appended as Append does,
// without being kept, since its copy costs more than the two small ones
// saved. Like a DateCache, a ResponseCache belongs to one goroutine.
type ResponseCache struct {
	// MaxBytes is the longest rendering kept, head, Date, fields and body
	// together; 0 means DefaultResponseCacheBytes, negative keeps none.
	MaxBytes int

	slots [responseCacheSlots]cachedResponse
	next  int // the slot the next miss overwrites
}

// DefaultResponseCacheBytes is the longest response a zero ResponseCache
// keeps: every slot may hold this much.
const DefaultResponseCacheBytes = 512

// responseCacheSlots is how many renderings a ResponseCache keeps: enough
// for the keep-alive and closing forms of a server's two or three common
// routes. A miss costs one copy more than Append, so a mix of more distinct
// responses than this pays a little over Append.
const responseCacheSlots = 4

// cachedResponse is one whole rendering of s for keepAlive at second sec.
type cachedResponse struct {
	s         *StaticResponse
	keepAlive bool
	sec       int64
	b         []byte
}

// AppendCached appends the response to dst as Append does, with the same
// result, through c: from c's copy when s was rendered there for keepAlive
// within now's second, else rendered (with d for the Date) and, when short
// enough, kept in c. It never allocates once c's slots have grown to the
// responses they keep and dst has room.
func (s *StaticResponse) AppendCached(dst []byte, keepAlive bool, c *ResponseCache, d *DateCache, now time.Time) []byte {
	sec := now.Unix()
	for i := range c.slots {
		if e := &c.slots[i]; e.s == s && e.keepAlive == keepAlive && e.sec == sec {
			return append(dst, e.b...)
		}
	}
	limit := c.MaxBytes
	if limit == 0 {
		limit = DefaultResponseCacheBytes
	}
	if s.renderedLen(keepAlive) > limit {
		return s.Append(dst, keepAlive, d, now)
	}
	e := &c.slots[c.next]
	c.next = (c.next + 1) % len(c.slots)
	e.s, e.keepAlive, e.sec = s, keepAlive, sec
	e.b = s.Append(e.b[:0], keepAlive, d, now)
	return append(dst, e.b...)
}

// renderedLen is the length of what Append writes for keepAlive.
func (s *StaticResponse) renderedLen(keepAlive bool) int {
	n := len(s.head) + len(DateCache{}.buf)
	if keepAlive {
		return n + len(s.keep)
	}
	return n + len(s.close)
}
