package proto

import (
	"bytes"
	"strconv"
	"time"

	"github.com/pinion-net/pinion/codec"
)

// HTTP is -proto http: HTTP/1.1 with keep-alive and pipelining, on
// codec's strict parser. Its routes:
//
//	GET  /plaintext  200 text/plain        Hello, World!
//	GET  /json       200 application/json  {"message":"Hello, World!"}
//	GET  /block?ms=N 200 text/plain        ok, after N ms (0-10000) of blocking work; 400 for another N
//	GET  /whoami     200 text/plain        IP:PORT of the client as the server sees it (after PROXY)
//	POST /echo       200 application/octet-stream, the request body
//
// HEAD is served wherever GET is, as GET without the body (RFC 9110
// §9.3.2). Another method on one of these paths is answered 405 with
// Allow; any other path 404. The path is matched as sent, without
// percent-decoding; an absolute-form target ("http://host/json") is
// matched on its path.
//
// A request the parser refuses is answered with the status its
// *codec.HTTPError carries (400, 413, 431, 501 or 505) and
// "Connection: close", and nothing after it is read. So is a request
// without keep-alive, after its response. An HTTP/1.0 request that asks for
// keep-alive gets "Connection: keep-alive" back, since 1.0 clients close
// without it.
//
// Serving allocates nothing once the Scratch's Request, its ResponseCache and the reply
// buffer have grown: the responses of constant body are rendered once
// (codec.StaticResponse), kept whole with their Date for the second in the
// Scratch's ResponseCache, and the Date header of the others comes from the
// Scratch's DateCache.
type HTTP struct {
	lim     codec.HTTPLimits
	maxBody int64 // -max-body; 0 refuses every body, which lim cannot say

	// The responses of constant body, rendered once.
	hello, json, notFound, blockOK, badBlock *codec.StaticResponse
}

// httpServerName is the Server header of every response.
const httpServerName = "pinion"

// The response bodies.
const (
	httpHello    = "Hello, World!"
	httpJSON     = `{"message":"Hello, World!"}`
	httpBlockOK  = "ok"
	httpNotFound = "Not Found\n"
	httpBadBlock = "ms must be an integer from 0 to 10000\n"
	httpMethod   = "Method Not Allowed\n"

	httpBlockMaxMs = 10000
)

// errHTTPBodyRefused is the refusal of a body over a -max-body too small for
// codec.HTTPLimits to express (0).
var errHTTPBodyRefused = &codec.HTTPError{Status: 413, Reason: "request body over -max-body"}

// newHTTP returns the HTTP protocol with the limits of o: maxHeader bytes
// of request line and header section (the codec's default, 8 KiB, when not
// positive) and maxBody bytes of body.
func newHTTP(o Options) (Protocol, error) {
	static := func(status int, contentType, body string) *codec.StaticResponse {
		return codec.NewStaticResponse(status, contentType, []byte(body), httpServerName)
	}
	return &HTTP{
		lim:      codec.HTTPLimits{MaxHeaderBytes: o.MaxHeader, MaxBody: max(o.MaxBody, 1)},
		maxBody:  max(o.MaxBody, 0),
		hello:    static(200, "text/plain", httpHello),
		json:     static(200, "application/json", httpJSON),
		notFound: static(404, "text/plain", httpNotFound),
		blockOK:  static(200, "text/plain", httpBlockOK),
		badBlock: static(400, "text/plain", httpBadBlock),
	}, nil
}

// httpReplyBudget is how many response bytes one Serve call collects
// before it returns, leaving the rest of the input for the next call, as
// respReplyBudget does for RESP: the caller writes them and its flow
// control sees them before more requests are served.
const httpReplyBudget = 256 << 10

// AbandonOnFIN says that a client's FIN means it gave up, as nginx takes
// it: requests not yet answered, and their blocking work, are dropped.
func (h *HTTP) AbandonOnFIN() bool { return true }

// serve answers the complete requests at the start of in, in order. It
// stops after a request owed blocking work (/block), after a request that
// ends the connection, at a refused or incomplete one, and once the
// responses pass httpReplyBudget.
func (h *HTTP) Serve(sc *Scratch, in, out []byte) (int, []byte, Action) {
	off := 0
	pr := sc.progress()
	for off < len(in) && len(out) < httpReplyBudget {
		n, err := codec.ResumeRequest(in[off:], &sc.req, &h.lim, pr)
		if err == nil && n > 0 && int64(len(sc.req.Body)) > h.maxBody {
			err = errHTTPBodyRefused
		}
		if err != nil {
			return off, h.refuse(sc, out, err), Action{Close: true, Err: err}
		}
		if n == 0 {
			if pr.ContinueDue() {
				// RFC 9110 §10.1.1: the client waits for it (curl a
				// second) before sending the body. The progress says so
				// only while no byte of the body has arrived, so it goes
				// out once per request.
				out = append(out, "HTTP/1.1 100 Continue\r\n\r\n"...)
			}
			return off, out, Action{Partial: true}
		}
		off += n
		if sc.Draining {
			sc.req.KeepAlive = false // "Connection: close", then close
		}
		from := len(out)
		var block time.Duration
		out, block = h.route(sc, out)
		keepAlive := sc.req.KeepAlive
		if block > 0 {
			return off, out, Action{Block: block, BlockFrom: from, Close: !keepAlive}
		}
		if !keepAlive {
			return off, out, Action{Close: true}
		}
	}
	return off, out, Action{}
}

// route appends the response to sc.req, and for /block the blocking work
// it is owed after.
func (h *HTTP) route(sc *Scratch, out []byte) ([]byte, time.Duration) {
	r := &sc.req
	getLike := string(r.Method) == "GET" || string(r.Method) == "HEAD"
	// The common targets, as sent, have no query to split off.
	path, query := r.Target, []byte(nil)
	// Compared without a variable: string(r.Target) held in one is a copy.
	if string(r.Target) != "/plaintext" && string(r.Target) != "/json" {
		path, query = httpSplitTarget(r.Target)
	}
	switch string(path) {
	case "/plaintext":
		if getLike {
			return h.respondStatic(sc, out, h.hello), 0
		}
		return h.notAllowed(sc, out, "GET, HEAD"), 0
	case "/json":
		if getLike {
			return h.respondStatic(sc, out, h.json), 0
		}
		return h.notAllowed(sc, out, "GET, HEAD"), 0
	case "/block":
		if !getLike {
			return h.notAllowed(sc, out, "GET, HEAD"), 0
		}
		ms, ok := httpBlockMillis(query)
		if !ok {
			return h.respondStatic(sc, out, h.badBlock), 0
		}
		return h.respondStatic(sc, out, h.blockOK), time.Duration(ms) * time.Millisecond
	case "/whoami":
		if getLike {
			return h.respond(sc, out, 200, "text/plain", httpWhoami(sc)), 0
		}
		return h.notAllowed(sc, out, "GET, HEAD"), 0
	case "/echo":
		if string(r.Method) == "POST" {
			return h.respond(sc, out, 200, "application/octet-stream", r.Body), 0
		}
		return h.notAllowed(sc, out, "POST"), 0
	}
	return h.respondStatic(sc, out, h.notFound), 0
}

// httpWhoami returns the client's address as IP:PORT, or "unknown" when the
// connection cannot say (its peer is gone).
func httpWhoami(sc *Scratch) []byte {
	if sc.Peer != nil {
		if a := sc.Peer.RemoteAddr(); a != nil {
			return []byte(a.String())
		}
	}
	return []byte("unknown")
}

// respond appends a response to sc.req.
func (h *HTTP) respond(sc *Scratch, out []byte, status int, contentType string, body []byte) []byte {
	out = codec.AppendResponse(out, status, contentType, body, sc.req.KeepAlive, httpServerName, &sc.date, sc.Now)
	return h.finish(sc, out, len(body))
}

// respondStatic appends the response r to sc.req.
func (h *HTTP) respondStatic(sc *Scratch, out []byte, r *codec.StaticResponse) []byte {
	out = r.AppendCached(out, sc.req.KeepAlive, &sc.resp, &sc.date, sc.Now)
	return h.finish(sc, out, r.BodyLen())
}

// notAllowed appends a 405 response listing the methods allow. It is
// written here because it has a field, Allow, that AppendResponse does not.
func (h *HTTP) notAllowed(sc *Scratch, out []byte, allow string) []byte {
	out = append(out, "HTTP/1.1 405 Method Not Allowed\r\nServer: "+httpServerName+"\r\nDate: "...)
	out = sc.date.Append(out, sc.Now)
	out = append(out, "\r\nAllow: "...)
	out = append(out, allow...)
	out = append(out, "\r\nContent-Type: text/plain\r\nContent-Length: "...)
	out = strconv.AppendInt(out, int64(len(httpMethod)), 10)
	if !sc.req.KeepAlive {
		out = append(out, "\r\nConnection: close"...)
	}
	out = append(out, "\r\n\r\n"+httpMethod...)
	return h.finish(sc, out, len(httpMethod))
}

// finish adjusts the response just appended to out, whose body is its last
// bodyLen bytes, to the request: a HEAD response loses its body (keeping
// the Content-Length of GET), and an HTTP/1.0 keep-alive request gets
// "Connection: keep-alive" before the empty line that ends the header
// section.
func (h *HTTP) finish(sc *Scratch, out []byte, bodyLen int) []byte {
	if string(sc.req.Method) == "HEAD" {
		out = out[:len(out)-bodyLen]
		bodyLen = 0
	}
	if sc.req.Minor == 0 && sc.req.KeepAlive {
		const field = "Connection: keep-alive\r\n"
		at := len(out) - bodyLen - len("\r\n")
		out = append(out, field...)
		copy(out[at+len(field):], out[at:len(out)-len(field)])
		copy(out[at:], field)
	}
	return out
}

// refuse appends the answer to a refused request: err's status (400 when
// err is no *codec.HTTPError), its reason phrase as the body (none for a
// HEAD request), and "Connection: close".
func (h *HTTP) refuse(sc *Scratch, out []byte, err error) []byte {
	status := 400
	if e, ok := err.(*codec.HTTPError); ok {
		status = e.Status
	}
	return h.closing(sc, out, status, codec.StatusText(status)+"\n")
}

// Busy is the answer when the offload pool refuses a request's blocking
// work: 503, and the connection closes.
func (h *HTTP) Busy(sc *Scratch, out []byte) []byte {
	return h.closing(sc, out, 503, "Service Unavailable\n")
}

// closing appends a response with "Connection: close" and body, which it
// leaves out, keeping its Content-Length, when sc.req is a HEAD request:
// RFC 9110 §9.3.2 allows no body in any response to HEAD, and a client
// would read one as the start of the next response. After a refusal
// sc.req holds only the method, and only when the request line got that
// far (see codec.ParseRequest).
func (h *HTTP) closing(sc *Scratch, out []byte, status int, body string) []byte {
	out = codec.AppendResponse(out, status, "text/plain", []byte(body), false, httpServerName, &sc.date, sc.Now)
	if string(sc.req.Method) == "HEAD" {
		out = out[:len(out)-len(body)]
	}
	return out
}

// httpSplitTarget returns the path and query of a request target. An
// absolute-form target ("http://host:port/p?q") gives its path ("/" when
// empty); other forms (authority, asterisk) are returned whole as the path
// and match no route.
func httpSplitTarget(t []byte) (path, query []byte) {
	if len(t) > 0 && t[0] != '/' {
		if i := bytes.Index(t, []byte("://")); i >= 0 {
			rest := t[i+len("://"):]
			j := bytes.IndexAny(rest, "/?")
			switch {
			case j < 0:
				return []byte("/"), nil
			case rest[j] == '?':
				return []byte("/"), rest[j+1:]
			}
			t = rest[j:]
		}
	}
	if i := bytes.IndexByte(t, '?'); i >= 0 {
		return t[:i], t[i+1:]
	}
	return t, nil
}

// httpBlockMillis returns the value of the first "ms" parameter of query:
// decimal digits, from 0 to httpBlockMaxMs.
func httpBlockMillis(query []byte) (int, bool) {
	for len(query) > 0 {
		var param []byte
		param, query, _ = bytes.Cut(query, []byte("&"))
		v, ok := bytes.CutPrefix(param, []byte("ms="))
		if !ok {
			continue
		}
		if len(v) == 0 || len(v) > len("10000") {
			return 0, false
		}
		ms := 0
		for _, c := range v {
			if c < '0' || c > '9' {
				return 0, false
			}
			ms = 10*ms + int(c-'0')
		}
		return ms, ms <= httpBlockMaxMs
	}
	return 0, false
}
