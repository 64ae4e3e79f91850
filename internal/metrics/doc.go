// Package metrics holds the small lock-free instruments shared by the loops
// and the offload pool. It imports nothing of ours.
package metrics
