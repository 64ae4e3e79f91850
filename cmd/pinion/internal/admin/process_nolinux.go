//go:build !linux

package admin

func residentBytes() int64 { return -1 }

func openFDs() int64 { return -1 }
