// Package offload is pinion's pool for blocking work: a fixed number of
// worker goroutines fed by a bounded queue.
//
// TrySubmit never blocks: when the queue is full it returns ErrFull at
// once, and the caller (an event loop) decides what to do — pause the
// connection or refuse the request. When a worker frees a slot of a full
// queue, the pool calls Config.OnRoom once, so paused submitters can retry
// without polling.
//
// The pool knows nothing of connections: per-connection ordering,
// cancellation and replies are the loop's business (see loop.Conn.Offload).
// It imports nothing of ours.
package offload
