package admin

import (
	"bytes"
	"os"
	"strconv"
)

// procStat reads the process's resident set size from /proc/self/statm,
// kept open so that a scrape costs one pread, not an open, a read and a
// close.
type procStat struct {
	statm *os.File // nil when it could not be opened
	buf   [128]byte
}

func openProcStat() *procStat {
	f, err := os.Open("/proc/self/statm")
	if err != nil {
		return &procStat{}
	}
	return &procStat{statm: f}
}

func (p *procStat) close() {
	if p.statm != nil {
		_ = p.statm.Close()
	}
}

// residentBytes returns the resident set size (statm's second field, in
// pages) in bytes, or -1. Not safe for concurrent use.
func (p *procStat) residentBytes() int64 {
	if p.statm == nil {
		return -1
	}
	n, err := p.statm.ReadAt(p.buf[:], 0)
	if n == 0 && err != nil {
		return -1
	}
	f := bytes.Fields(p.buf[:n])
	if len(f) < 2 {
		return -1
	}
	pages, err := strconv.ParseInt(string(f[1]), 10, 64)
	if err != nil {
		return -1
	}
	return pages * int64(os.Getpagesize())
}
