package codec

import "time"

// StatusText returns the reason phrase of the status codes the server
// uses: 200, 400, 404, 408, 413, 431, 500, 501, 503 and 505; and "" for any
// other (a status line may have an empty reason phrase, RFC 9112 §4).
func StatusText(code int) string {
	switch code {
	case 200:
		return "OK"
	case 400:
		return "Bad Request"
	case 404:
		return "Not Found"
	case 408:
		return "Request Timeout"
	case 413:
		return "Content Too Large"
	case 431:
		return "Request Header Fields Too Large"
	case 500:
		return "Internal Server Error"
	case 501:
		return "Not Implemented"
	case 503:
		return "Service Unavailable"
	case 505:
		return "HTTP Version Not Supported"
	}
	return ""
}

// AppendResponse appends a whole HTTP/1.1 response to dst and returns the
// extended slice: the status line (status is a three-digit code, with
// StatusText as its reason phrase), then Server (omitted when server is
// empty), Date (from d, or formatted afresh when d is nil), Content-Type
// (omitted when contentType is empty), Content-Length, "Connection: close"
// when !keepAlive, an empty line, and body. server and contentType are
// written as given: they must be valid field values (no CR or LF).
//
// Content-Length is omitted for 1xx and 204 responses, which cannot have
// one (RFC 9110 §8.6); their body must be empty.
//
// It never allocates when dst has room, so a loop appending into a reused
// buffer with a warm DateCache allocates nothing.
func AppendResponse(dst []byte, status int, contentType string, body []byte, keepAlive bool, server string, d *DateCache, now time.Time) []byte {
	dst = append(dst, "HTTP/1.1 "...)
	dst = httpAppendUint(dst, uint64(status))
	dst = append(dst, ' ')
	dst = append(dst, StatusText(status)...)
	if server != "" {
		dst = append(dst, "\r\nServer: "...)
		dst = append(dst, server...)
	}
	dst = append(dst, "\r\nDate: "...)
	if d == nil {
		var fresh DateCache
		d = &fresh
	}
	dst = d.Append(dst, now)
	if contentType != "" {
		dst = append(dst, "\r\nContent-Type: "...)
		dst = append(dst, contentType...)
	}
	if status >= 200 && status != 204 {
		dst = append(dst, "\r\nContent-Length: "...)
		dst = httpAppendUint(dst, uint64(len(body)))
	}
	if !keepAlive {
		dst = append(dst, "\r\nConnection: close"...)
	}
	dst = append(dst, "\r\n\r\n"...)
	return append(dst, body...)
}

// httpAppendUint appends n in decimal. It is strconv.AppendUint for the
// small numbers of a status line and a Content-Length, at a fraction of
// its cost on them (no 64-bit division for the usual two or three digits).
func httpAppendUint(dst []byte, n uint64) []byte {
	var buf [20]byte // the digits of the largest uint64
	i := len(buf)
	for n >= 10 {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
	}
	i--
	buf[i] = byte('0' + n)
	return append(dst, buf[i:]...)
}
