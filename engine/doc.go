// Package engine is pinion's public face: it starts N event loops, each on
// a locked OS thread (pinned to a CPU on Linux), each with its own poller
// and, by default on Linux, its own SO_REUSEPORT listening socket, and runs
// a Handler's callbacks on them. No goroutine per connection.
//
// Start returns a running *Engine; Run starts one and blocks until its
// context ends. Shutdown stops accepting, lets owed bytes flush, closes
// every connection, and returns once every loop goroutine has exited.
//
// Handler callbacks run on the loop that owns the connection and must not
// block. Conn (loop only) and Handle (any goroutine) keep the two sides
// apart in the types; see package loop for the full contract.
//
// There is no package-level state: several engines may run in one process.
package engine
