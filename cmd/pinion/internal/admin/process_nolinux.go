//go:build !linux

package admin

// procStat has nothing to read where there is no /proc.
type procStat struct{}

func openProcStat() *procStat { return &procStat{} }

func (*procStat) close() {}

func (*procStat) residentBytes() int64 { return -1 }
