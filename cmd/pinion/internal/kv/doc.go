// Package kv is the key-value store behind "pinion serve -proto resp": a
// sharded map of byte strings with Redis's expiry rules (lazy on access, and
// an active sweep of sampled keys), safe for concurrent use by every loop or
// connection goroutine of a server.
//
// Every operation takes the caller's clock, so a loop reads the time once
// per tick and tests control it.
package kv
