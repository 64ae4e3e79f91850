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
