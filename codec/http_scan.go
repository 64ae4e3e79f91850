package codec

import (
	"encoding/binary"
	"math/bits"
)

// This file holds the byte classes and scanners with which requestLine
// (http_request.go) and httpFieldLine (http_field.go) read a line in one
// pass from left to right: each byte is checked against the line's grammar
// and the line's end is found in the same pass, which stops at the first
// byte that decides (a delimiter, the end of the line, or a byte the
// grammar refuses). A decision rests only on the bytes before that point,
// so a prefix of an input that gets as far decides exactly as the whole
// does, and one that does not get as far waits for more.
//
// No scan looks past the section's limit: the limit is the end of its
// window, and reaching the window's end at the limit is a 431.

// Byte classes of httpClass, one bit each.
const (
	httpCTchar   = 1 << iota // tchar (RFC 9110 §5.6.2)
	httpCTarget              // a request-target byte needing no second look: VCHAR but "%"
	httpCValue               // field-vchar, SP or HTAB (RFC 9110 §5.5)
	httpCRegName             // unreserved or sub-delims (RFC 3986 §2.2-3)
	httpCHex                 // HEXDIG, either case
)

// httpClass maps each byte to its classes. It is computed once, from the
// sets of http_field.go and the grammar's ranges, and never modified.
var httpClass = httpMakeClass()

// httpMakeClass builds httpClass.
func httpMakeClass() (t [256]uint8) {
	for c := range 256 {
		b := byte(c)
		if httpInSet(b, httpTcharLo, httpTcharHi) {
			t[c] |= httpCTchar
		}
		if '!' <= b && b <= '~' && b != '%' {
			t[c] |= httpCTarget
		}
		if b == ' ' || b == '\t' || '!' <= b && b != 0x7f {
			t[c] |= httpCValue
		}
		if httpInSet(b, httpRegNameLo, httpRegNameHi) {
			t[c] |= httpCRegName
		}
		if httpIsDigit(b) || 'a' <= b|0x20 && b|0x20 <= 'f' {
			t[c] |= httpCHex
		}
	}
	return t
}

// Words of eight equal bytes, for the scans eight bytes at a time.
const (
	httpOnes  = 0x0101010101010101
	httpHighs = 0x8080808080808080
)

// httpCtlMask returns a word whose high bit is set in the lowest byte of w
// (the first in memory) that is a control character (below SP, or DEL), and
// possibly in later bytes too; it is zero when w has none. The two tests
// are the classic "has a byte less than n" and "has a zero byte" tricks:
// a borrow can only flag bytes above a true hit, so the lowest flag is
// exact. Bytes from 0x80 up (obs-text) are never flagged.
func httpCtlMask(w uint64) uint64 {
	lt := (w - httpOnes*' ') &^ w
	del := w ^ (httpOnes * 0x7f)
	del = (del - httpOnes) &^ del
	return (lt | del) & httpHighs
}

// httpScanValue returns the offset of the first byte of b[i:end] that is
// not field-vchar, SP or HTAB, or end when there is none.
func httpScanValue(b []byte, i, end int) int {
	b = b[:end] // so that the loops need no bounds check
	for {
		for i+8 <= len(b) {
			m := httpCtlMask(binary.LittleEndian.Uint64(b[i : i+8]))
			if m == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(m) >> 3
			if b[i] != '\t' {
				return i
			}
			i++
		}
		for i < len(b) && httpClass[b[i]]&httpCValue != 0 {
			i++
		}
		if i == len(b) || b[i] != '\t' {
			return i
		}
		i++
	}
}

// httpScanTarget returns the offset of the first byte of b[i:end] that
// is not a request-target byte needing no second look (VCHAR but "%"), or
// end. Eight bytes at a time it flags bytes below "!", from DEL up, and
// "%", each test exact in its lowest flag as in httpCtlMask.
func httpScanTarget(b []byte, i, end int) int {
	b = b[:end] // so that the loops need no bounds check
	for i+8 <= len(b) {
		w := binary.LittleEndian.Uint64(b[i : i+8])
		lt := (w - httpOnes*'!') &^ w
		del := w ^ (httpOnes * 0x7f)
		del = (del - httpOnes) &^ del
		pct := w ^ (httpOnes * '%')
		pct = (pct - httpOnes) &^ pct
		if m := (lt | del | pct | w) & httpHighs; m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
		i += 8
	}
	for i < len(b) && httpClass[b[i]]&httpCTarget != 0 {
		i++
	}
	return i
}

// httpScanTchar returns the offset of the first byte of b[i:end] that is
// not tchar, or end: four bytes at a time while all are, then one by one.
func httpScanTchar(b []byte, i, end int) int {
	b = b[:end] // so that the loops need no bounds check
	for i+4 <= len(b) {
		r := b[i : i+4 : i+4]
		if httpClass[r[0]]&httpClass[r[1]]&httpClass[r[2]]&httpClass[r[3]]&httpCTchar == 0 {
			break
		}
		i += 4
	}
	for i < len(b) && httpClass[b[i]]&httpCTchar != 0 {
		i++
	}
	return i
}
