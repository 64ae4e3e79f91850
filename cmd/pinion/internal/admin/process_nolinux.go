//go:build !linux

package admin

func residentBytes() int64 { return -1 }
