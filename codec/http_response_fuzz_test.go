package codec_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"testing"

	"github.com/pinion-net/pinion/codec"
)

// respFuzzSeeds are the seeds of FuzzHTTPResponse, besides the corpus under
// testdata/fuzz/FuzzHTTPResponse.
var respFuzzSeeds = []string{
	httpResp("HTTP/1.1 200 OK", []string{"Server: pinion", "Content-Length: 13"}, "Hello, World!"),
	httpResp("HTTP/1.1 200 OK", []string{"Content-Length: 2"}, "hi") + httpResp("HTTP/1.1 404 Not Found", []string{"Content-Length: 0"}, ""),
	httpResp("HTTP/1.0 200 OK", []string{"Connection: keep-alive", "Content-Length: 1"}, "x"),
	httpResp("HTTP/1.1 204 No Content", []string{"X-A: 1", "x-a: 2"}, ""),
	httpResp("HTTP/1.1 304 Not Modified", []string{"Content-Length: 7"}, ""),
	"HTTP/1.1 100 Continue\r\n\r\n" + httpResp("HTTP/1.1 200 OK", []string{"Content-Length: 0"}, ""),
	httpResp("HTTP/1.1 200 OK", []string{"Transfer-Encoding: chunked"}, "1\r\nx\r\n0\r\n\r\n"),
	httpResp("HTTP/1.1 200 OK", []string{"Content-Length: 2, 2", "Content-Length: 02"}, "hi"),
	httpResp("HTTP/1.1 200", []string{"Content-Length: 0"}, ""),
	httpResp("HTTP/1.1 200 OK", []string{"Connection: close"}, "until EOF"),
}

// respFuzzLimits are small, so that the fuzzer reaches every limit.
var respFuzzLimits = &codec.HTTPLimits{MaxHeaderBytes: 256, MaxHeaders: 6, MaxBody: 64}

// FuzzHTTPResponse is a differential test against net/http.ReadResponse
// (with the body read to the end), and checks that every prefix of an
// input is either incomplete or parses as the whole does.
//
// Where both accept an input, the responses must agree: version, status,
// reason, header fields as a multiset of canonical name to values in
// order, Content-Length, body and keep-alive (!Close). Content-Length and
// Transfer-Encoding fields are left out of the multiset (net/http folds
// them into ContentLength and TransferEncoding; ContentLength and the body
// are compared instead).
//
// We refuse some responses net/http accepts, on purpose; the refusal's
// reason must be one of respStricter. A response we accept and net/http
// refuses fails the test unless respLaxer explains it.
func FuzzHTTPResponse(f *testing.F) {
	for _, s := range respFuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var r codec.Response
		n, err := codec.ParseResponse(in, &r, nil)
		resp, herr := http.ReadResponse(bufio.NewReaderSize(bytes.NewReader(in), 64<<10), nil)
		var body []byte
		berr := herr
		if herr == nil {
			body, berr = io.ReadAll(resp.Body)
		}
		switch {
		case err != nil:
			var he *codec.HTTPError
			if !errors.As(err, &he) {
				t.Fatalf("%q: error %v is not an *HTTPError", in, err)
			}
			if berr == nil && !slices.Contains(respStricter, he.Reason) {
				t.Fatalf("%q: we refuse (%v), net/http accepts %s with header %v and body %q",
					in, err, resp.Status, resp.Header, body)
			}
		case n == 0:
			if berr == nil && resp.ContentLength >= 0 {
				t.Fatalf("%q: we wait for more input, net/http reads a whole response: %s with body %q",
					in, resp.Status, body)
			}
		case berr != nil:
			if why := respLaxer(in[:n], &r); why == "" {
				t.Fatalf("%q: we accept %d %q, net/http refuses: %v", in, r.Status, r.Reason, berr)
			}
		default:
			respCompare(t, in, &r, resp, body)
		}
		respCheckPrefixes(t, in)
	})
}

// respStricter are the reasons for which we refuse responses net/http
// accepts, each on purpose:
var respStricter = []string{
	// The status line is exactly HTTP-version SP 3DIGIT SP reason (RFC 9112
	// §4); net/http takes a missing reason's SP, leading spaces before the
	// code, codes from 000 to 999 and any HTTP/x.y.
	"malformed status line",
	"status code out of range",
	"only HTTP/1.0 and HTTP/1.1 are supported",
	// Lines end with CRLF; no whitespace before the colon, no obs-fold
	// (RFC 9112 §2.2, §5.1, §5.2), as for requests.
	"line ends with LF without CR",
	"CR without LF",
	"whitespace between field name and colon",
	"obsolete line folding",
	"control character in field value",
	"invalid field name",
	"field line without colon",
	// net/http reads a chunked body, and one framed by the connection's
	// close; we support Content-Length framing alone.
	"Transfer-Encoding in a response is not supported",
	"response without Content-Length (framed by the connection's close) is not supported",
	// A Content-Length of 19 digits: net/http takes up to 2^63-1.
	"Content-Length has too many digits",
	// Our limits, which net/http's ReadResponse does not have.
	"header section too large",
	"too many header fields",
	"Content-Length over the limit",
}

// respLaxer explains why we may accept the response in that net/http
// refuses; it returns "" when nothing does.
func respLaxer(in []byte, r *codec.Response) string {
	// net/http refuses repeated Content-Length fields unless their text is
	// identical, and any list; RFC 9112 §6.3 lets a recipient take a list
	// of identical values as that value, which we do, comparing numbers.
	var cls []string
	for _, h := range r.Headers {
		if bytes.EqualFold(h.Name, []byte("Content-Length")) {
			cls = append(cls, string(h.Value))
		}
	}
	if len(cls) > 1 || len(cls) == 1 && bytes.ContainsAny([]byte(cls[0]), ", ") {
		return "Content-Length list of equal values"
	}
	return ""
}

// respCompare checks that what we parsed agrees with net/http's response.
func respCompare(t *testing.T, in []byte, r *codec.Response, resp *http.Response, body []byte) {
	t.Helper()
	if r.Major != resp.ProtoMajor || r.Minor != resp.ProtoMinor || r.Status != resp.StatusCode {
		t.Fatalf("%q: HTTP/%d.%d %d, net/http HTTP/%d.%d %d", in, r.Major, r.Minor, r.Status, resp.ProtoMajor, resp.ProtoMinor, resp.StatusCode)
	}
	if want := strconv.Itoa(r.Status) + " " + string(r.Reason); resp.Status != want {
		t.Fatalf("%q: status %q, net/http %q", in, want, resp.Status)
	}
	if !bytes.Equal(r.Body, body) {
		t.Fatalf("%q: body %q, net/http %q", in, r.Body, body)
	}
	if r.ContentLength >= 0 && r.Status >= 200 && r.Status != 204 && r.Status != 304 && r.ContentLength != resp.ContentLength {
		t.Fatalf("%q: Content-Length %d, net/http %d", in, r.ContentLength, resp.ContentLength)
	}
	if r.KeepAlive == resp.Close {
		t.Fatalf("%q: keep-alive %v, net/http Close %v", in, r.KeepAlive, resp.Close)
	}
	got := http.Header{}
	for _, h := range r.Headers {
		got.Add(textproto.CanonicalMIMEHeaderKey(string(h.Name)), string(h.Value))
	}
	want := resp.Header.Clone()
	for _, h := range []string{"Content-Length", "Transfer-Encoding"} {
		got.Del(h)
		want.Del(h)
	}
	if len(got) != len(want) {
		t.Fatalf("%q: header %v, net/http %v", in, got, want)
	}
	for k, vs := range got {
		if !slices.Equal(vs, want[k]) {
			t.Fatalf("%q: header %s = %q, net/http %q", in, k, vs, want[k])
		}
	}
}

// respCheckPrefixes checks that every prefix of in parses as incomplete
// or as in does, under the small limits.
func respCheckPrefixes(t *testing.T, in []byte) {
	t.Helper()
	if len(in) > httpFuzzMaxSplit {
		return
	}
	whole := respOutcome(in, false, respFuzzLimits)
	for k := range len(in) {
		if got := respOutcome(in[:k], false, respFuzzLimits); got != "incomplete" && got != whole {
			t.Fatalf("%q: prefix of %d bytes gives %s, the whole %s", in, k, got, whole)
		}
	}
}
