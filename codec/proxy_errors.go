package codec

import "fmt"

// proxyError is the type of the ErrProxy sentinels. Each also matches
// ErrCorrupt, so a caller that only cares whether input was malformed need
// not list them.
type proxyError struct{ msg string }

func (e *proxyError) Error() string { return "codec: PROXY header: " + e.msg }

// Is makes every ErrProxy sentinel match ErrCorrupt.
func (e *proxyError) Is(target error) bool { return target == ErrCorrupt }

// The malformed forms of a PROXY header. ParseProxy wraps one of them with
// the detail (the byte, field or value at fault); match them with
// errors.Is. Each also matches ErrCorrupt. Headers over a bound are
// reported with a *FrameTooLargeError instead.
var (
	// ErrProxySignature: the input starts with neither "PROXY " nor the
	// 12-byte version 2 signature.
	ErrProxySignature error = &proxyError{"wrong signature"}
	// ErrProxyVersion: a version 2 signature followed by a version other
	// than 2.
	ErrProxyVersion error = &proxyError{"unsupported version"}
	// ErrProxyCommand: a version 2 command other than LOCAL or PROXY.
	ErrProxyCommand error = &proxyError{"unknown command"}
	// ErrProxyFamily: an unknown address family or transport, or a pair the
	// protocol does not define (version 2), or a version 1 protocol other
	// than TCP4, TCP6 or UNKNOWN.
	ErrProxyFamily error = &proxyError{"unknown address family or transport"}
	// ErrProxyTruncated: a version 2 length too short for the addresses of
	// its family.
	ErrProxyTruncated error = &proxyError{"address block shorter than its family needs"}
	// ErrProxyLine: a version 1 line that ends with a bare LF, or holds a
	// byte no field may contain.
	ErrProxyLine error = &proxyError{"malformed line"}
	// ErrProxyFields: a version 1 line with the wrong number of fields.
	ErrProxyFields error = &proxyError{"wrong number of fields"}
	// ErrProxyAddress: a version 1 address that is not an IP address in
	// canonical decimal or hex form: an octet over 255, a leading zero, a
	// zone, a missing part.
	ErrProxyAddress error = &proxyError{"malformed address"}
	// ErrProxyAddressFamily: a version 1 address of the other family than
	// the line declares (an IPv6 address after TCP4, or the reverse).
	ErrProxyAddressFamily error = &proxyError{"address of the wrong family"}
	// ErrProxyPort: a version 1 port that is not a decimal number from 0 to
	// 65535 without a sign or leading zeros.
	ErrProxyPort error = &proxyError{"malformed port"}
	// ErrProxyTLV: a version 2 TLV that runs past the header, or a CRC32C
	// TLV that is not 4 bytes long or not the only one.
	ErrProxyTLV error = &proxyError{"malformed TLV"}
	// ErrProxyChecksum: a CRC32C TLV whose value does not match the header.
	ErrProxyChecksum error = &proxyError{"CRC32C mismatch"}
	// ErrProxyUniqueID: a unique ID TLV longer than ProxyMaxUniqueID bytes.
	ErrProxyUniqueID error = &proxyError{"unique ID too long"}
	// ErrProxySSL: an SSL TLV shorter than its client and verify fields,
	// or whose sub-TLVs run past it.
	ErrProxySSL error = &proxyError{"malformed SSL TLV"}
)

// proxyErrf wraps sentinel with a detail.
func proxyErrf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)
}
