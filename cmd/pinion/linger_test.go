package main

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// tcpPair returns the two ends of a loopback TCP connection: the server's
// and the client's.
func tcpPair(t *testing.T) (server, client *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(); _ = s.Close() })
	return s.(*net.TCPConn), c.(*net.TCPConn)
}

// TestLingerCloseOutlivesShutdownWakeups: shutdown wakes every connection
// goroutine by setting its read deadline to now, and it may reach a
// connection that is already lingering. That wake-up must not end the
// linger: a close then, with the client's pipelined input unread, resets
// the connection, which destroys replies the client has not read yet (it
// did, about once in thirty runs of TestShutdownPipelinedRESP under load).
// Here the wake-ups land throughout the linger's first 100 ms; the
// connection must still be open after them, and close with a FIN once the
// client sends its own.
func TestLingerCloseOutlivesShutdownWakeups(t *testing.T) {
	s, c := tcpPair(t)
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := c.Write(make([]byte, 64<<10)); err != nil { // pipelined input the server never reads
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); lingerClose(s, 10*time.Second) }()
	if n, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("client read after the server's close began: %d, %v; want EOF", n, err)
	}
	for start := time.Now(); time.Since(start) < 100*time.Millisecond; {
		_ = s.SetReadDeadline(time.Now()) // what shutdown does to every tracked connection
		time.Sleep(time.Millisecond)      // pacing the wake-ups, not synchronising
	}
	select {
	case <-done:
		t.Fatal("lingerClose returned on shutdown's wake-up, before the client's FIN or the linger's end")
	default:
	}
	// Still lingering: more input is read and discarded, and the client's
	// FIN ends the linger with a clean close on both sides.
	if _, err := c.Write(make([]byte, 64<<10)); err != nil {
		t.Fatalf("client write while the server lingers: %v", err)
	}
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("lingerClose still running 5s after the client's FIN")
	}
	if n, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Errorf("client read after both FINs: %d, %v; want EOF, not a reset", n, err)
	}
}

// TestLingerCloseBounded: a client that never sends FIN holds the closing
// connection for the linger, wake-ups or not, and no longer: then the
// server closes it.
func TestLingerCloseBounded(t *testing.T) {
	const linger = 300 * time.Millisecond
	s, c := tcpPair(t)
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	start := time.Now()
	done := make(chan struct{})
	go func() { defer close(done); lingerClose(s, linger) }()
	if n, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("client read after the server's close began: %d, %v; want EOF", n, err)
	}
	_ = s.SetReadDeadline(time.Now())
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("lingerClose still running 10s into a 300ms linger")
	}
	if took := time.Since(start); took < linger {
		t.Errorf("lingerClose returned after %v; want at least the linger, %v", took, linger)
	}
}
