package codec

import (
	"encoding/binary"
	"iter"
)

// ProxyTLVType is the type of a version 2 TLV.
type ProxyTLVType uint8

// The TLV types the protocol defines. Types 0xE0 to 0xEF are for
// applications, 0xF0 to 0xF7 experimental and 0xF8 to 0xFF reserved; every
// TLV, known or not, is reachable through ProxyHeader.TLVs and TLV.
const (
	ProxyTLVALPN      ProxyTLVType = 0x01 // the negotiated application protocol, e.g. "h2"
	ProxyTLVAuthority ProxyTLVType = 0x02 // the host name the client asked for (TLS SNI)
	ProxyTLVCRC32C    ProxyTLVType = 0x03 // CRC32C of the header, checked by ParseProxy
	ProxyTLVNoop      ProxyTLVType = 0x04 // padding, to be ignored
	ProxyTLVUniqueID  ProxyTLVType = 0x05 // an opaque connection ID, at most 128 bytes
	ProxyTLVSSL       ProxyTLVType = 0x20 // the client's TLS session; see ProxySSL
	ProxyTLVNetNS     ProxyTLVType = 0x30 // the network namespace's name
)

// The sub-TLV types of an SSL TLV.
const (
	ProxySSLVersion ProxyTLVType = 0x21 // TLS version, e.g. "TLSv1.3"
	ProxySSLCN      ProxyTLVType = 0x22 // common name of the client certificate's subject
	ProxySSLCipher  ProxyTLVType = 0x23 // cipher name, e.g. "ECDHE-RSA-AES128-GCM-SHA256"
	ProxySSLSigAlg  ProxyTLVType = 0x24 // signature algorithm of the client certificate
	ProxySSLKeyAlg  ProxyTLVType = 0x25 // key algorithm of the client certificate
)

// The bits of ProxySSL.Client.
const (
	ProxySSLClientSSL      = 0x01 // the client connected over TLS
	ProxySSLClientCertConn = 0x02 // the client sent a certificate on this connection
	ProxySSLClientCertSess = 0x04 // the client sent a certificate in this TLS session
)

// TLVs returns an iterator over the TLVs of h, in order, known and unknown
// types alike. The values have the lifetime of h's slices.
func (h *ProxyHeader) TLVs() iter.Seq2[ProxyTLVType, []byte] { return proxyTLVSeq(h.RawTLVs) }

// TLV returns the value of the first TLV of type t, and whether there is
// one. The value has the lifetime of h's slices.
func (h *ProxyHeader) TLV(t ProxyTLVType) ([]byte, bool) { return proxyFindTLV(h.RawTLVs, t) }

// ALPN returns the value of the ALPN TLV, or nil.
func (h *ProxyHeader) ALPN() []byte { v, _ := h.TLV(ProxyTLVALPN); return v }

// Authority returns the value of the authority TLV (the TLS server name),
// or nil.
func (h *ProxyHeader) Authority() []byte { v, _ := h.TLV(ProxyTLVAuthority); return v }

// UniqueID returns the value of the unique ID TLV, or nil.
func (h *ProxyHeader) UniqueID() []byte { v, _ := h.TLV(ProxyTLVUniqueID); return v }

// SSL returns the SSL TLV, and whether there is one.
func (h *ProxyHeader) SSL() (ProxySSL, bool) {
	v, ok := h.TLV(ProxyTLVSSL)
	if !ok || len(v) < 5 {
		return ProxySSL{}, false
	}
	return ProxySSL{Client: v[0], Verify: binary.BigEndian.Uint32(v[1:5]), RawTLVs: v[5:]}, true
}

// ProxySSL is the SSL TLV of a version 2 header: what the proxy knows of the
// client's TLS session.
type ProxySSL struct {
	// Client holds the ProxySSLClient bits.
	Client uint8
	// Verify is 0 when the client presented a certificate that was
	// verified, nonzero otherwise.
	Verify uint32
	// RawTLVs are the sub-TLVs (ProxySSLVersion and the others).
	RawTLVs []byte
}

// TLVs returns an iterator over the sub-TLVs of s.
func (s ProxySSL) TLVs() iter.Seq2[ProxyTLVType, []byte] { return proxyTLVSeq(s.RawTLVs) }

// TLV returns the value of the first sub-TLV of type t, and whether there
// is one.
func (s ProxySSL) TLV(t ProxyTLVType) ([]byte, bool) { return proxyFindTLV(s.RawTLVs, t) }

// Version returns the TLS version sub-TLV, or nil.
func (s ProxySSL) Version() []byte { v, _ := s.TLV(ProxySSLVersion); return v }

// CN returns the client certificate's common name sub-TLV, or nil.
func (s ProxySSL) CN() []byte { v, _ := s.TLV(ProxySSLCN); return v }

// Cipher returns the cipher sub-TLV, or nil.
func (s ProxySSL) Cipher() []byte { v, _ := s.TLV(ProxySSLCipher); return v }

// SigAlg returns the signature algorithm sub-TLV, or nil.
func (s ProxySSL) SigAlg() []byte { v, _ := s.TLV(ProxySSLSigAlg); return v }

// KeyAlg returns the key algorithm sub-TLV, or nil.
func (s ProxySSL) KeyAlg() []byte { v, _ := s.TLV(ProxySSLKeyAlg); return v }

// proxyTLVSeq iterates over a TLV vector, stopping at the first TLV that
// does not fit (there is none in a vector ParseProxy returned).
func proxyTLVSeq(b []byte) iter.Seq2[ProxyTLVType, []byte] {
	return func(yield func(ProxyTLVType, []byte) bool) {
		for p := 0; p < len(b); {
			t, v, next, ok := proxyNextTLV(b, p)
			if !ok || !yield(t, v) {
				return
			}
			p = next
		}
	}
}

// proxyFindTLV returns the value of the first TLV of type t in b.
func proxyFindTLV(b []byte, t ProxyTLVType) ([]byte, bool) {
	for p := 0; p < len(b); {
		tt, v, next, ok := proxyNextTLV(b, p)
		if !ok {
			return nil, false
		}
		if tt == t {
			return v, true
		}
		p = next
	}
	return nil, false
}
