package main

import (
	"bytes"
	"errors"
	"sync"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/pinion-net/pinion/codec"
)

// httpServerName is the Server header of every response.
const httpServerName = "gnet"

// httpServer is -proto http: HTTP/1.1 with keep-alive and pipelining,
// parsed by codec.ParseRequest with its default limits (8 KiB of request
// line and headers, 1 MiB of body), the defaults of pinion serve. Its
// fields are only read once it is built, by every loop at once.
type httpServer struct {
	*server
	lim codec.HTTPLimits

	// The response bodies, those of pinion serve -proto http.
	// The responses, rendered once as pinion serve renders them.
	hello    *codec.StaticResponse // Hello, World!
	json     *codec.StaticResponse // {"message":"Hello, World!"}
	notFound *codec.StaticResponse // Not Found\n

	// scratch holds *httpConn: one is taken for each OnTraffic call and
	// given back at its end, so in practice each loop reuses one, as
	// pinion's loops keep one scratch each. Nothing in it outlives a call
	// (an incomplete request stays in gnet's buffer and is parsed again),
	// so connections need none of their own: a per-connection one would
	// cost every idle connection about 3 KiB once codec.Request's header
	// array has grown, and every request a cache miss at 10,000
	// connections.
	scratch sync.Pool
}

// httpConn is the scratch state of one OnTraffic call: once req's fields
// and out have grown, serving allocates nothing.
type httpConn struct {
	req  codec.Request
	date codec.DateCache
	resp codec.ResponseCache // whole renderings of the routes' responses, as pinion serve keeps them
	now  time.Time           // read once per OnTraffic
	out  []byte              // the replies of one OnTraffic; empty between calls
}

// newHTTPServer returns the HTTP handler built on s.
func newHTTPServer(s *server) *httpServer {
	h := &httpServer{
		server:   s,
		hello:    codec.NewStaticResponse(200, "text/plain", []byte("Hello, World!"), httpServerName),
		json:     codec.NewStaticResponse(200, "application/json", []byte(`{"message":"Hello, World!"}`), httpServerName),
		notFound: codec.NewStaticResponse(404, "text/plain", []byte("Not Found\n"), httpServerName),
	}
	h.scratch.New = func() any { return new(httpConn) }
	return h
}

// OnTraffic answers every complete request buffered on c, in order, with
// one write, and leaves an incomplete last one in gnet's inbound buffer
// until more of it arrives. It closes c after a refused request or one
// without keep-alive, once the replies are written. It runs on the loop
// that owns c.
//
// Peek(-1) returns all buffered input: the loop's read buffer itself when
// nothing was left over, otherwise a copy gnet makes of its inbound buffer
// and the new bytes. Either is valid only until Discard, and the parsed
// request aliases it, so the replies are complete before Discard. Discard
// must not be given 0: gnet's Discard(n) with n <= 0 drops everything.
func (h *httpServer) OnTraffic(c gnet.Conn) gnet.Action {
	in, err := c.Peek(-1)
	if err != nil || len(in) == 0 {
		return gnet.None
	}
	hc := h.scratch.Get().(*httpConn)
	defer h.scratch.Put(hc)
	hc.now = time.Now()
	used, closing := h.answer(hc, in)
	if len(hc.out) > 0 {
		_, err = c.Write(hc.out)
		hc.out = hc.out[:0]
		if err != nil {
			return gnet.Close // gnet has closed c already
		}
	}
	if closing {
		return gnet.Close
	}
	if used > 0 {
		_, _ = c.Discard(used)
	}
	return gnet.None
}

// answer appends to hc.out the replies to the complete requests at the
// start of in. It returns the bytes they used and whether the connection
// closes after the replies: after a refused request, answered with its
// status and "Connection: close", or after one without keep-alive.
func (h *httpServer) answer(hc *httpConn, in []byte) (used int, closing bool) {
	for used < len(in) {
		n, err := codec.ParseRequest(in[used:], &hc.req, &h.lim)
		if err != nil {
			hc.out = h.refuse(hc, hc.out, err)
			return used, true
		}
		if n == 0 {
			return used, false
		}
		used += n
		hc.out = h.route(hc, hc.out)
		if !hc.req.KeepAlive {
			return used, true
		}
	}
	return used, false
}

// route appends the response to hc.req.
func (h *httpServer) route(hc *httpConn, out []byte) []byte {
	r := &hc.req
	if string(r.Method) == "GET" || string(r.Method) == "HEAD" {
		switch string(httpPath(r.Target)) {
		case "/plaintext":
			return h.respond(hc, out, h.hello)
		case "/json":
			return h.respond(hc, out, h.json)
		}
	}
	return h.respond(hc, out, h.notFound)
}

// respond appends the response resp to hc.req, shaped as pinion serve
// shapes it: a HEAD response keeps GET's Content-Length but not the body
// (RFC 9110 §9.3.2), and an HTTP/1.0 request that asked for keep-alive is
// told "Connection: keep-alive", without which a 1.0 client closes.
func (h *httpServer) respond(hc *httpConn, out []byte, resp *codec.StaticResponse) []byte {
	r := &hc.req
	head := string(r.Method) == "HEAD"
	out = resp.AppendCached(out, r.KeepAlive, &hc.resp, &hc.date, hc.now)
	if head {
		out = out[:len(out)-resp.BodyLen()]
	}
	if r.Minor == 0 && r.KeepAlive {
		bodyLen := resp.BodyLen()
		if head {
			bodyLen = 0
		}
		out = httpInsertField(out, len(out)-bodyLen-len("\r\n"), "Connection: keep-alive\r\n")
	}
	return out
}

// refuse appends the answer to a request the parser refused: the status
// its *codec.HTTPError carries (400 for any other error), the reason
// phrase as the body, and "Connection: close".
func (h *httpServer) refuse(hc *httpConn, out []byte, err error) []byte {
	status := 400
	if e, ok := errors.AsType[*codec.HTTPError](err); ok {
		status = e.Status
	}
	body := codec.StatusText(status) + "\n"
	return codec.AppendResponse(out, status, "text/plain", []byte(body), false, httpServerName, &hc.date, hc.now)
}

// httpInsertField inserts field, a header field line with its CRLF, at at
// in out, the offset of the CRLF that ends the header section.
func httpInsertField(out []byte, at int, field string) []byte {
	n := len(out)
	out = append(out, field...)
	copy(out[at+len(field):], out[at:n])
	copy(out[at:], field)
	return out
}

// httpPath returns the path of a request target, matched as sent (no
// percent-decoding): the origin form up to any query, and the path of an
// absolute form ("http://host/json?x" gives "/json", "http://host" gives
// "/"). Other forms are returned whole and match no route.
func httpPath(t []byte) []byte {
	if len(t) > 0 && t[0] != '/' {
		_, rest, ok := bytes.Cut(t, []byte("://"))
		if !ok {
			return t
		}
		i := bytes.IndexAny(rest, "/?")
		if i < 0 || rest[i] == '?' {
			return []byte("/")
		}
		t = rest[i:]
	}
	if i := bytes.IndexByte(t, '?'); i >= 0 {
		t = t[:i]
	}
	return t
}
