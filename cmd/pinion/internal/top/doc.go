// Package top is `pinion top`: a terminal view of a running pinion serve,
// read from its admin endpoint's /metrics once a second, for people who
// would rather look than read JSON. Per loop it shows connections,
// accepted and closed per second, bytes in and out per second, the tick
// duration's p99, slow callbacks and paused connections; then the offload
// pool (busy workers, queue, wait p99) and the process (CPU, RSS). A frame
// fits 80×24 and is plain ANSI.
package top
