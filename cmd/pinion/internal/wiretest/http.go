package wiretest

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"testing"
)

// HTTPRequest builds a request for target with a Host header; extra header
// lines end with CRLF; a non-empty body gets its Content-Length.
func HTTPRequest(method, target, extra, body string) string {
	s := method + " " + target + " HTTP/1.1\r\nHost: test\r\n" + extra
	if body != "" {
		s += fmt.Sprintf("Content-Length: %d\r\n", len(body))
	}
	return s + "\r\n" + body
}

// HTTPResponse is one response as read by ReadHTTP.
type HTTPResponse struct {
	Status int
	Body   string
	Header http.Header // "Connection: close" included, which net/http moves out of it
}

// ReadHTTP reads one response from br with net/http; method is that of its
// request (HEAD responses have no body).
func ReadHTTP(br *bufio.Reader, method string) (HTTPResponse, error) {
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		return HTTPResponse{}, err
	}
	defer resp.Body.Close()
	if resp.Close {
		// ReadResponse moves "Connection: close" to Close; put it back
		// for the tests to check like any other field.
		resp.Header.Set("Connection", "close")
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return HTTPResponse{}, fmt.Errorf("read body of %d response: %w", resp.StatusCode, err)
	}
	return HTTPResponse{Status: resp.StatusCode, Body: string(body), Header: resp.Header}, nil
}

// HTTPWant is an expected response: status and body, and header fields
// that must have these values ("": must be absent).
type HTTPWant struct {
	Status int
	Body   string
	Header map[string]string
}

// Check reports through t where g, the i-th response, differs from w.
func (w HTTPWant) Check(t testing.TB, i int, g HTTPResponse) {
	t.Helper()
	if g.Status != w.Status || g.Body != w.Body {
		t.Errorf("response %d: got %d %q, want %d %q", i, g.Status, g.Body, w.Status, w.Body)
	}
	for k, v := range w.Header {
		if got := g.Header.Get(k); got != v {
			t.Errorf("response %d: header %s: got %q, want %q", i, k, got, v)
		}
	}
}

// The responses of GET /plaintext and GET /json.
var (
	Hello = HTTPWant{200, "Hello, World!", map[string]string{"Content-Type": "text/plain", "Server": "pinion", "Content-Length": "13"}}
	JSON  = HTTPWant{200, `{"message":"Hello, World!"}`, map[string]string{"Content-Type": "application/json", "Server": "pinion"}}
)
