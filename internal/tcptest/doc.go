// Package tcptest is the far end of a loopback TCP connection for tests:
// Serve runs a function of the test on each connection it accepts and
// cleans up when the test ends; Echo is the usual such function.
//
// Only test files import it, so neither it nor the testing package it
// imports is linked into a program; internal/archtest checks that no
// package's build imports it. It imports nothing of this module, so the
// external tests of engine may use it as a stand-in for a remote peer and
// still use pinion only as an embedder would.
package tcptest
