package codec

import (
	"math/rand/v2"
	"testing"
)

// httpValidHostRef is httpValidHost written byte by byte from the grammar
// of RFC 3986 §3.2.2-3, the oracle of TestHTTPValidHost.
func httpValidHostRef(v []byte, needPort bool) bool {
	i := 0
	if len(v) > 0 && v[0] == '[' {
		end := -1
		for k, c := range v {
			if c == ']' {
				end = k
				break
			}
		}
		if end < 2 {
			return false
		}
		for _, c := range v[1:end] {
			if !httpIsDigit(c) && !('a' <= c|0x20 && c|0x20 <= 'f') && c != ':' && c != '.' {
				return false
			}
		}
		i = end + 1
	} else {
		for i < len(v) && v[i] != ':' {
			c := v[i]
			switch {
			case c == '%':
				if i+2 >= len(v) || httpClass[v[i+1]]&httpCHex == 0 || httpClass[v[i+2]]&httpCHex == 0 {
					return false
				}
				i += 3
			case httpInSet(c, httpRegNameLo, httpRegNameHi):
				i++
			default:
				return false
			}
		}
	}
	if i == len(v) {
		return !needPort
	}
	if v[i] != ':' || needPort && (i == 0 || i == len(v)-1) {
		return false
	}
	for _, c := range v[i+1:] {
		if !httpIsDigit(c) {
			return false
		}
	}
	return true
}

// TestHTTPValidHost checks httpValidHost, which reads reg-names four bytes
// at a time, against httpValidHostRef: on every byte value at every offset
// of a few valid hosts, and on random strings of the bytes that matter.
func TestHTTPValidHost(t *testing.T) {
	check := func(v []byte) {
		t.Helper()
		for _, needPort := range []bool{false, true} {
			if got, want := httpValidHost(v, needPort), httpValidHostRef(v, needPort); got != want {
				t.Fatalf("httpValidHost(%q, %v) = %v, want %v", v, needPort, got, want)
			}
		}
	}
	for _, base := range []string{"127.0.0.1:9000", "localhost", "www.example.com:8080", "a%41b.c:1", "[::1]:80", ""} {
		check([]byte(base))
		for at := range len(base) {
			for c := range 256 {
				v := []byte(base)
				v[at] = byte(c)
				check(v)
			}
		}
	}
	const alphabet = "a0.:%fF[]-_~!/ @\x80\x00"
	rng := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		v := make([]byte, rng.IntN(20))
		for k := range v {
			v[k] = alphabet[rng.IntN(len(alphabet))]
		}
		check(v)
	}
}

// TestHTTPFieldHostName checks the word compare by which field recognizes
// a Host field: a four-byte tchar name is Host exactly when
// httpEqualFold says so, whichever byte of "host" is changed to whichever
// tchar.
func TestHTTPFieldHostName(t *testing.T) {
	for k := range 4 {
		for c := range 256 {
			if !httpIsTchar(byte(c)) {
				continue
			}
			name := []byte("hOsT")
			name[k] = byte(c)
			var f httpFraming
			_ = f.field(Header{Name: name, Value: []byte("a")})
			if want := httpEqualFold(name, "host"); f.host != want {
				t.Errorf("field name %q: taken as Host %v, want %v", name, f.host, want)
			}
		}
	}
}

// TestHTTPHostLine checks the one-pass Host line of fields against the
// general path it stands in for: every line httpHostLine takes, whatever
// the window, httpFieldLine takes too, with the same value and end, and
// httpValidHost accepts the value; and httpHostLine takes the common Host
// lines. The lines are a few valid ones with every byte value at every
// offset, and random strings of the bytes that matter.
func TestHTTPHostLine(t *testing.T) {
	taken := 0
	check := func(line []byte) {
		t.Helper()
		if !httpIsHostName(line) {
			t.Fatalf("%q: not recognized as a Host line", line)
		}
		for end := len("host:"); end <= len(line); end++ {
			v, w, next := httpHostLine(line, len("host:"), end)
			if next < 0 {
				continue
			}
			taken++
			colon, gv, gw, gnext, err := httpFieldLine(line, 0, end)
			if err != nil || colon != len("host") || gv != v || gw != w || gnext != next {
				t.Fatalf("%q in a window of %d: httpHostLine gives value %d:%d and end %d; httpFieldLine colon %d, value %d:%d, end %d, %v",
					line, end, v, w, next, colon, gv, gw, gnext, err)
			}
			if !httpValidHost(line[v:w], false) {
				t.Fatalf("%q: httpHostLine takes the value %q, which httpValidHost refuses", line, line[v:w])
			}
		}
	}
	for _, base := range []string{"Host: 127.0.0.1:9000\r\n", "host:localhost\r\n", "HOST: \twww.example.com:8080 \r\n", "Host:\r\n", "Host: :\r\n"} {
		line := []byte(base)
		if _, _, next := httpHostLine(line, len("host:"), len(line)); next != len(line) {
			t.Errorf("%q: httpHostLine does not take it", line)
		}
		for at := len("host:"); at < len(base); at++ {
			for c := range 256 {
				line := []byte(base)
				line[at] = byte(c)
				check(line)
			}
		}
	}
	const alphabet = "a0.:%[]-_~! \t\r\n\x80\x00"
	rng := rand.New(rand.NewPCG(3, 4))
	for range 100000 {
		line := append([]byte("Host:"), make([]byte, rng.IntN(24))...)
		for k := len("host:"); k < len(line); k++ {
			line[k] = alphabet[rng.IntN(len(alphabet))]
		}
		check(append(line, "\r\n"...))
	}
	if taken < 1000 {
		t.Errorf("httpHostLine took only %d of the lines: the test checks too little", taken)
	}
}
