package codec

// MemoHolds exposes RequestMemo.holds to the external tests, which count
// the requests the memo served.
func MemoHolds(m *RequestMemo, b []byte, lim *HTTPLimits, pr *RequestProgress) bool {
	return m.holds(b, lim, pr)
}
