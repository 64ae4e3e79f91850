// Package load is "pinion load": a closed-loop load generator for the
// protocols of "pinion serve" (echo, HTTP/1.1 and RESP) that verifies every
// reply byte, and with -idle a holder of idle connections for measuring a
// server's memory per connection.
//
// Run parses the flags and runs; its JSON report is a Result.
package load
