// Package proto holds the protocols "pinion serve" speaks: Echo, HTTP (a
// small HTTP/1.1 server on codec's parser) and RESP (enough of Redis for
// redis-cli and redis-benchmark, over a kv.Store).
//
// A Protocol is independent of the server model: it consumes bytes and
// appends replies, never blocks, and says in its Action what the
// connection does next. The loop model and the goroutine model of package
// main drive the same values, so both serve byte-for-byte the same replies.
package proto
