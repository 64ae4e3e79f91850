//go:build !unix

package admin

func cpuSeconds() float64 { return -1 }
