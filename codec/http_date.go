package codec

import "time"

// DateCache formats the Date header field value (RFC 9110 §5.6.7
// IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT") at most once per
// second. The zero value is ready to use. A DateCache is owned by one
// goroutine, for example one loop: a server keeps one per loop rather than
// sharing one.
type DateCache struct {
	sec   int64    // the Unix second buf holds
	valid bool     // whether buf holds anything
	buf   [29]byte // len("Sun, 06 Nov 1994 08:49:37 GMT")
}

// Append appends now, in UTC and as an IMF-fixdate, to dst and returns the
// extended slice. It formats only when now is in another second than the
// previous call's, and never allocates when dst has room. Years outside
// 0-9999 are clamped into it, since the format has four digits.
func (d *DateCache) Append(dst []byte, now time.Time) []byte {
	if sec := now.Unix(); !d.valid || sec != d.sec {
		d.format(now)
		d.sec, d.valid = sec, true
	}
	return append(dst, d.buf[:]...)
}

// format writes now into d.buf.
func (d *DateCache) format(now time.Time) {
	const (
		days   = "SunMonTueWedThuFriSat"
		months = "JanFebMarAprMayJunJulAugSepOctNovDec"
	)
	t := now.UTC()
	year, month, day := t.Date()
	hour, minute, second := t.Clock()
	year = min(max(year, 0), 9999)
	wd := int(t.Weekday())
	b := d.buf[:0] // 29 bytes of room: appending writes d.buf itself
	b = append(b, days[3*wd:3*wd+3]...)
	b = append(b, ", "...)
	b = httpAppend2(b, day)
	b = append(b, ' ')
	b = append(b, months[3*(month-1):3*month]...)
	b = append(b, ' ')
	b = httpAppend2(b, year/100)
	b = httpAppend2(b, year%100)
	b = append(b, ' ')
	b = httpAppend2(b, hour)
	b = append(b, ':')
	b = httpAppend2(b, minute)
	b = append(b, ':')
	b = httpAppend2(b, second)
	b = append(b, " GMT"...)
	if len(b) != len(d.buf) {
		panic("codec: DateCache: an IMF-fixdate is not 29 bytes")
	}
}

// httpAppend2 appends n, from 0 to 99, as two decimal digits.
func httpAppend2(b []byte, n int) []byte {
	return append(b, byte('0'+n/10), byte('0'+n%10))
}
