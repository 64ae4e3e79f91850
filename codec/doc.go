// Package codec turns bytes into frames and protocol messages, and back.
// It is pure: it makes no system calls, starts no goroutines and imports
// nothing of pinion's, so it can be tested, fuzzed and reused on its own.
//
// # Sources
//
// Decoders read from a Source, the unconsumed input of a connection:
// *loop.Conn satisfies it, and Bytes adapts a plain byte slice. A decoder
// peeks at what it needs and discards exactly the bytes of what it returns,
// so an incomplete frame stays in the source until more input arrives.
//
// # Framing
//
// The framing decoders, Line, Delimiter, Fixed and LengthField, share one
// method:
//
//	Decode(src Source) ([]byte, error)
//
// It returns the next complete frame and consumes it; (nil, nil) when more
// input is needed (an empty frame is a non-nil empty slice); or an error
// for input that can never become a valid frame, after which the caller
// closes the connection. AppendLine, AppendDelimited and LengthField.Append
// write frames that the matching decoder reads back.
//
// A framing decoder's fields are its configuration. Build one with its New
// function, which validates that configuration; the zero value is not a
// usable decoder, and Decode of an invalid configuration returns an error
// rather than guessing. Decode does not modify the decoder, so one decoder
// may serve any number of connections on any number of goroutines.
//
// # Protocols
//
// ParseRequest (and DecodeRequest on a Source) parses an HTTP/1.1 request
// strictly per RFC 9112 — request line, fields, Content-Length or chunked
// bodies with trailers — and refuses what a server must refuse with an
// *HTTPError carrying the status to answer (400, 413, 431, 501, 505).
// AppendResponse writes a response, with the Date header formatted once a
// second by a DateCache; a StaticResponse holds one whose status, type and
// body never change, rendered once, for a fixed route, and a ResponseCache
// keeps such responses whole, Date included, for the second, so that each
// is one copy. For clients, ParseResponse parses a response with
// the same field grammar and limits (Content-Length framing only).
//
// ParseCommand (and DecodeCommand) parses RESP2 commands, as arrays of bulk
// strings or inline; the Append functions write every reply type and
// ParseReply reads them back, for clients.
//
// ParseProxy (and DecodeProxy) parses the PROXY protocol header, version 1
// or 2, that a load balancer sends before the client's bytes, with the
// version 2 TLVs (ALPN, authority, CRC32C, unique ID, SSL); AppendProxyV1
// and AppendProxyV2 write one, for clients and proxies.
//
// All parsers are restartable: given part of a message they return 0 and a
// nil error, and are called again from the start once more input arrived.
// ResumeRequest does the same for HTTP with a RequestProgress kept per
// connection, so that a request arriving in many pieces has each byte
// checked once rather than once per piece.
//
// # Lifetimes
//
// A frame returned by Decode aliases the source's buffer: no byte is copied.
// It is valid until the source's bytes change. For a loop.Conn that is
// until the OnData callback returns; for Bytes, until the caller reuses the
// array under B. Copy what must outlive it, for example before handing it
// to the offload pool. The capacity of a frame ends where the frame does,
// so appending to it never overwrites the input that follows.
//
// # Limits
//
// Every decoder that a peer can tell a size has a limit. Input over it
// yields a *FrameTooLargeError as soon as the bytes seen prove it: a line
// is refused once more than its limit arrived without a newline, a length
// field as soon as its header declares too much. The decoders never
// allocate, and never wait for, the size a peer declares, and the framing
// decoders allocate nothing at all while decoding. Malformed input gives
// an error wrapping ErrCorrupt.
package codec
