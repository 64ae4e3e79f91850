// Package wiretest holds what the tests of "pinion serve" need to speak its
// protocols as a client: HTTP/1.1 requests built and responses read and
// checked, RESP commands encoded and replies spelled out. The protocols'
// own tests (internal/proto) and the tests that start servers (package
// main) share it; nothing else imports it.
package wiretest
