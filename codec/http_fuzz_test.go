package codec_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/pinion-net/pinion/codec"
)

// httpFuzzSeeds are the seeds both targets start from, besides the corpus
// under testdata/fuzz/FuzzHTTPRequest.
var httpFuzzSeeds = []string{
	httpGET,
	httpChunkedPOST,
	httpReq("POST / HTTP/1.1", "Host: a", "Content-Length: 5") + "hello" + httpGET,
	httpReq("GET / HTTP/1.0", "Connection: keep-alive"),
	httpReq("GET / HTTP/1.1", "Host: a", "Pragma: no-cache", "Trailer: X-T", "X-A: 1", "x-a: 2"),
	// Each of the differences httpLaxer explains.
	httpReq("PUT / HTTP/1.1", "Host: a", "Content-Length: 2, 2", "Content-Length: 02") + "hi",
	httpReq("GET http://[::1/ HTTP/1.1", "Host: a"),
	httpReq("GET /caf\xc3\xa9 HTTP/1.1", "Host: a"),
	httpReq("CONNECT a:99999999999 HTTP/1.1", "Host: a"),
	httpReq("POST / HTTP/1.1", "Host: a", "Transfer-Encoding: chunked", "Trailer: Content-Length") + "0\r\n\r\n",
	httpReq("POST / HTTP/1.1", "Host: a", "Transfer-Encoding: , chunked") + "0\r\n\r\n",
	httpReq("POST / HTTP/1.1", "Host: a", "Transfer-Encoding:", "Transfer-Encoding: chunked") + "0\r\n\r\n",
	httpChunkedHead + "1 ;a\r\nx\r\n0\r\n\r\n",
	httpChunkedHead + "1;" + strings.Repeat("a", 5000) + "\r\nx\r\n0\r\n\r\n",
	httpChunkedHead + strings.Repeat("1;"+strings.Repeat("a", 600)+"\r\nx\r\n", 40) + "0\r\n\r\n",
}

// httpFuzzLimits are small, so that FuzzHTTPSplit reaches every limit.
var httpFuzzLimits = &codec.HTTPLimits{MaxHeaderBytes: 256, MaxHeaders: 6, MaxBody: 64}

// httpFuzzMaxSplit is the longest input whose splits FuzzHTTPSplit checks
// (each split reparses the input, so the check is quadratic); longer ones
// already cross every limit of httpFuzzLimits.
const httpFuzzMaxSplit = 2048

// FuzzHTTPRequest is a differential test against net/http.ReadRequest (with
// the body read to the end), the parser of the Go standard library.
//
// Where both accept an input, the requests must agree: method, target
// (RequestURI), version, header fields as a multiset of canonical name to
// values in order, Content-Length, body, trailers, keep-alive (!Close) and,
// for origin-form targets, Host. What is not compared, and why:
//   - Content-Length, Transfer-Encoding, Trailer and Host fields: net/http
//     removes them from Header (it folds them into ContentLength,
//     TransferEncoding, Trailer and Host), so both sides leave them out of
//     the multiset; ContentLength, the body and Host are compared instead.
//     net/http reports a ContentLength of 0 where we report -1 (none
//     declared), and -1 for chunked as we do.
//   - Cache-Control: net/http adds "Cache-Control: no-cache" when the first
//     Pragma is "no-cache" and there is no Cache-Control.
//   - Host of absolute-form and authority-form targets: net/http takes it
//     from the URL.
//   - Trailer keys declared in a Trailer field but never sent: net/http
//     lists them in Trailer with no values.
//
// We refuse some inputs net/http accepts, on purpose; the refusal's reason
// must be one of httpStricter. Inputs we accept and net/http refuses fail
// the test unless httpLaxer explains them. net/http does not skip empty
// lines before the request line (RFC 9112 §2.2 asks a server to), so it is
// given the input after the ones we skip. net/http reads through a
// bufio.Reader of 64 KiB rather than the default 4 KiB, since it bounds a
// trailer section by that buffer where we bound it by MaxHeaderBytes.
func FuzzHTTPRequest(f *testing.F) {
	for _, s := range httpFuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var r codec.Request
		n, err := codec.ParseRequest(in, &r, nil)
		skip := 0
		for skip < 8 && bytes.HasPrefix(in[skip:], []byte("\r\n")) {
			skip += 2
		}
		req, herr := http.ReadRequest(bufio.NewReaderSize(bytes.NewReader(in[skip:]), 64<<10))
		var body []byte
		berr := herr
		if herr == nil {
			body, berr = io.ReadAll(req.Body)
		}
		switch {
		case err != nil:
			var he *codec.HTTPError
			if !errors.As(err, &he) {
				t.Fatalf("%q: error %v is not an *HTTPError", in, err)
			}
			if berr == nil && !slices.Contains(httpStricter, he.Reason) &&
				!(req.ProtoMinor == 0 && slices.Contains(httpStricter10, he.Reason)) {
				t.Fatalf("%q: we refuse (%v), net/http accepts %s %s with header %v and body %q",
					in, err, req.Method, req.RequestURI, req.Header, body)
			}
		case n == 0:
			if berr == nil {
				t.Fatalf("%q: we wait for more input, net/http reads a whole request: %s %s with header %v and body %q",
					in, req.Method, req.RequestURI, req.Header, body)
			}
		case berr != nil:
			if why := httpLaxer(in[skip:n], &r, herr, berr); why == "" {
				t.Fatalf("%q: we accept %s, net/http refuses: %v", in, httpDump(&r), berr)
			}
		default:
			httpCompare(t, in, &r, req, body)
		}
	})
}

// httpStricter are the reasons for which we refuse requests net/http
// accepts, each on purpose:
var httpStricter = []string{
	// Lines end with CRLF (RFC 9112 §2.2 lets a recipient accept a bare LF;
	// we do not, as a bare LF is how smuggled requests hide). net/http also
	// drops a CR before the CRLF.
	"line ends with LF without CR",
	"CR without LF",
	// net/http takes any HTTP/x.y, also with leading zeros; we answer 505
	// for versions other than 1.0 and 1.1 and refuse others' forms.
	"only HTTP/1.0 and HTTP/1.1 are supported",
	"malformed HTTP version",
	// RFC 9112 §3.2: "*" only for OPTIONS, host:port only (and always) for
	// CONNECT, and percent signs start a pct-encoded triplet anywhere in
	// the target (net/http checks them only in the path).
	"asterisk-form target without OPTIONS",
	"CONNECT target is not host:port",
	"invalid percent-encoding in request target",
	// RFC 9112 §3.2 and RFC 3986 §2: a target is ASCII; net/http takes
	// any byte from 0x80 up in it.
	"non-ASCII byte in request target",
	// RFC 9112 §5.1 and §5.2: no whitespace before the colon (net/http
	// keeps such a field under its raw name), no obs-fold (net/http
	// unfolds).
	"whitespace between field name and colon",
	"obsolete line folding",
	// RFC 9112 §3.2: an HTTP/1.1 request needs one valid Host; http.ReadRequest
	// leaves those checks to the server.
	"HTTP/1.1 request without Host",
	"invalid Host",
	// RFC 9112 §6.1 and §6.3: Transfer-Encoding with Content-Length (net/http
	// drops the Content-Length) and in HTTP/1.0 (net/http ignores it) are
	// smuggling vectors.
	"both Transfer-Encoding and Content-Length",
	"Transfer-Encoding in an HTTP/1.0 request",
	// A Content-Length of 19 digits: net/http takes up to 2^63-1, we stop at
	// 18 digits (far over any MaxBody).
	"Content-Length has too many digits",
	// RFC 9112 §7.1.1: chunk extensions are checked (net/http cuts them at
	// the first ";" unseen, and trims whitespace after the size).
	"malformed chunk extension",
	// Our limits, which net/http's ReadRequest does not have.
	"header section too large",
	"too many header fields",
	"Content-Length over the limit",
	"chunked body over the limit",
	"chunk extensions too long",
}

// httpStricter10 are more reasons for refusing HTTP/1.0 requests net/http
// accepts: it ignores Transfer-Encoding in HTTP/1.0, where we refuse it
// (RFC 9112 §6.1), and malformed or unsupported codings no less.
var httpStricter10 = []string{
	"malformed Transfer-Encoding",
	"empty Transfer-Encoding",
	"chunked is not the final transfer coding",
	"unsupported transfer coding",
}

// httpLaxer explains why we may accept a request, the bytes in, that
// net/http refuses with herr (from ReadRequest) or berr (from reading the
// body); it returns "" when nothing does.
func httpLaxer(in []byte, r *codec.Request, herr, berr error) string {
	// net/http refuses repeated Content-Length fields unless their text is
	// identical, and any list; RFC 9112 §6.3 lets a recipient take a list
	// of identical values as that value, which we do, comparing numbers.
	var cls []string
	for _, h := range r.Headers {
		if strings.EqualFold(string(h.Name), "Content-Length") {
			cls = append(cls, string(h.Value))
		}
	}
	if len(cls) > 0 && (strings.Contains(cls[0], ",") || slices.ContainsFunc(cls, func(v string) bool { return v != cls[0] })) {
		return "Content-Length list of equal values"
	}
	// net/url validates the host and port inside absolute-form and
	// authority-form targets; we check only their form (the application
	// routes on the target as sent).
	if ue := (*url.Error)(nil); errors.As(herr, &ue) && r.Target[0] != '/' {
		return "URI validated by net/url"
	}
	// net/http refuses a Trailer field that names Content-Length,
	// Transfer-Encoding or Trailer; we do not interpret Trailer (trailers
	// are kept apart from the header fields anyway).
	for _, h := range r.Headers {
		if strings.EqualFold(string(h.Name), "Trailer") && herr != nil && strings.Contains(herr.Error(), "bad trailer key") {
			return "Trailer field names a framing field"
		}
	}
	// net/http takes exactly one Transfer-Encoding field of exactly
	// "chunked"; we take the fields as one list and ignore its empty
	// elements (RFC 9110 §5.6.1), so ", chunked" or an empty field and a
	// chunked one mean chunked too.
	if r.Chunked && herr != nil && strings.Contains(herr.Error(), "transfer encoding") {
		return "Transfer-Encoding list with empty elements"
	}
	if r.Chunked && herr == nil {
		// net/http refuses chunk lines of 4 KiB; the extensions of ours may
		// use MaxHeaderBytes.
		if strings.Contains(berr.Error(), "header line too long") {
			return "long chunk extensions"
		}
		// RFC 9112 §7.1.1 allows BWS before a chunk extension's ";"; net/http
		// parses the size up to the ";" and refuses the whitespace.
		if httpChunkSizeBWS(in) {
			return "BWS after chunk-size"
		}
	}
	return ""
}

// httpChunkSizeBWS reports whether a chunk-size line of the chunked request
// in has whitespace after the size.
func httpChunkSizeBWS(in []byte) bool {
	pos := bytes.Index(in, []byte("\r\n\r\n")) + 4
	for pos < len(in) {
		size := 0
		for pos < len(in) && strings.IndexByte("0123456789abcdefABCDEF", in[pos]) >= 0 {
			size = size<<4 | int(bytes.IndexByte([]byte("0123456789abcdef"), in[pos]|0x20))
			pos++
		}
		if pos < len(in) && (in[pos] == ' ' || in[pos] == '\t') {
			return true
		}
		lf := bytes.IndexByte(in[pos:], '\n')
		if size == 0 || lf < 0 {
			return false
		}
		pos += lf + 1 + size + 2
	}
	return false
}

// httpCompare fails the test unless r and net/http's req (with its body)
// agree; see FuzzHTTPRequest for what is compared.
func httpCompare(t *testing.T, in []byte, r *codec.Request, req *http.Request, body []byte) {
	t.Helper()
	fail := func(what string, got, want any) {
		t.Fatalf("%q: %s: we have %v, net/http %v", in, what, got, want)
	}
	if string(r.Method) != req.Method {
		fail("method", string(r.Method), req.Method)
	}
	if string(r.Target) != req.RequestURI {
		fail("target", string(r.Target), req.RequestURI)
	}
	if r.Major != req.ProtoMajor || r.Minor != req.ProtoMinor {
		fail("version", [2]int{r.Major, r.Minor}, [2]int{req.ProtoMajor, req.ProtoMinor})
	}
	skip := []string{"Content-Length", "Transfer-Encoding", "Trailer", "Host"}
	ours := httpFieldMap(r.Headers, skip)
	theirs := http.Header{}
	for k, v := range req.Header {
		if !slices.Contains(skip, k) {
			theirs[k] = v
		}
	}
	if _, ok := ours["Cache-Control"]; !ok && len(req.Header["Pragma"]) > 0 && req.Header["Pragma"][0] == "no-cache" {
		delete(theirs, "Cache-Control")
	}
	if !httpSameFields(ours, theirs) {
		fail("header fields", ours, theirs)
	}
	cl := r.ContentLength
	if cl == -1 && !r.Chunked {
		cl = 0
	}
	if cl != req.ContentLength {
		fail("Content-Length", r.ContentLength, req.ContentLength)
	}
	if string(r.Body) != string(body) {
		fail("body", r.Body, body)
	}
	if r.KeepAlive == req.Close {
		fail("keep-alive", r.KeepAlive, !req.Close)
	}
	if r.Target[0] == '/' {
		host, _ := r.Header("Host")
		if string(host) != req.Host {
			fail("Host", string(host), req.Host)
		}
	}
	trailers := http.Header{}
	for k, v := range req.Trailer {
		if v != nil {
			trailers[k] = v
		}
	}
	if ours := httpFieldMap(r.Trailers, nil); !httpSameFields(ours, trailers) {
		fail("trailers", ours, trailers)
	}
}

// httpFieldMap returns fields as net/http keeps them: values in order under
// their canonical names, leaving out those named in skip.
func httpFieldMap(fields []codec.Header, skip []string) http.Header {
	m := http.Header{}
	for _, h := range fields {
		k := textproto.CanonicalMIMEHeaderKey(string(h.Name))
		if !slices.Contains(skip, k) {
			m[k] = append(m[k], string(h.Value))
		}
	}
	return m
}

// httpSameFields reports whether a and b hold the same names and values.
func httpSameFields(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// FuzzHTTPSplit checks that ParseRequest never panics, that parsing any
// prefix of an input either waits for more (0, nil) or gives exactly the
// result of the whole, request after pipelined request, that ResumeRequest
// fed the input one byte more per call gives the same outcomes, and that
// DecodeRequest fed the input in two pieces decodes the same requests. It
// uses the small httpFuzzLimits, so that every limit is reached.
func FuzzHTTPSplit(f *testing.F) {
	for _, s := range httpFuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		// The outcomes of the whole input, request after request.
		var whole []string
		var ends []int
		for start := 0; ; {
			var r codec.Request
			n, err := codec.ParseRequest(in[start:], &r, httpFuzzLimits)
			whole = append(whole, httpDescribe(n, err, &r))
			if n == 0 || err != nil {
				break
			}
			start += n
			ends = append(ends, start)
		}
		if len(in) > httpFuzzMaxSplit {
			return
		}
		// Every prefix of every request's input.
		start := 0
		for k, want := range whole {
			end := len(in) // the last outcome: an error, or more to come
			if k < len(ends) {
				end = ends[k] // longer prefixes give the same request
			}
			for i := start; i <= end; i++ {
				got := httpOutcome(in[start:i], httpFuzzLimits)
				if got != want && (got != "more" || i == end) {
					t.Fatalf("%q: request %d from byte %d, prefix of %d bytes:\n got %s\nwant %s", in, k, start, i-start, got, want)
				}
			}
			if k < len(ends) {
				start = ends[k]
			}
		}
		// ResumeRequest one byte more per call, with one progress.
		var resumed []string
		var r codec.Request
		var pr codec.RequestProgress
		off := 0
		for i := 0; i <= len(in); i++ {
			used := 0
			used, resumed = httpServe(in[off:i], &r, &pr, httpFuzzLimits, resumed)
			off += used
			if len(resumed) > 0 && !strings.HasPrefix(resumed[len(resumed)-1], "n=") {
				break
			}
		}
		if len(resumed) == 0 || strings.HasPrefix(resumed[len(resumed)-1], "n=") {
			resumed = append(resumed, "more")
		}
		if !slices.Equal(resumed, whole) {
			t.Fatalf("%q byte by byte with ResumeRequest:\n got %q\nwant %q", in, resumed, whole)
		}
		// DecodeRequest in two pieces, for a few cut points.
		for _, cut := range []int{0, 1, len(in) / 3, len(in) / 2, len(in) - 1} {
			if cut < 0 || cut > len(in) {
				continue
			}
			src := &codec.Bytes{B: slices.Clone(in[:cut])}
			var got []string
			var r codec.Request
			decode := func() bool {
				for {
					ok, err := codec.DecodeRequest(src, &r, httpFuzzLimits)
					if err != nil {
						got = append(got, httpDescribe(0, err, &r))
						return false
					}
					if !ok {
						return true
					}
					got = append(got, httpDescribe(len(in), nil, &r))
				}
			}
			if decode() {
				src.B = append(src.B, in[cut:]...)
				if decode() {
					got = append(got, "more")
				}
			}
			if len(got) != len(whole) {
				t.Fatalf("%q cut at %d: DecodeRequest gives %d outcomes, ParseRequest %d:\n%q\n%q", in, cut, len(got), len(whole), got, whole)
			}
			for i := range got {
				// DecodeRequest does not report n; compare the rest.
				g, w := got[i], whole[i]
				if strings.HasPrefix(w, "n=") {
					g, w = g[strings.IndexByte(g, ' '):], w[strings.IndexByte(w, ' '):]
				}
				if g != w {
					t.Fatalf("%q cut at %d: request %d:\n got %s\nwant %s", in, cut, i, got[i], whole[i])
				}
			}
		}
	})
}
