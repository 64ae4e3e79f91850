package admin

import (
	"runtime"
	"strconv"
)

// appendProcessMetrics appends the process's metrics under the names
// Prometheus' own clients use (process_*, go_*), so dashboards made for
// them work; a figure the system does not give is left out.
// p is read under the caller's lock.
func appendProcessMetrics(b []byte, p *procStat) []byte {
	family := func(name, typ, help string) {
		b = append(b, "# HELP "...)
		b = append(b, name...)
		b = append(b, ' ')
		b = append(b, help...)
		b = append(b, "\n# TYPE "...)
		b = append(b, name...)
		b = append(b, ' ')
		b = append(b, typ...)
		b = append(b, '\n')
		b = append(b, name...)
		b = append(b, ' ')
	}
	if cpu := cpuSeconds(); cpu >= 0 {
		family("process_cpu_seconds_total", "counter", "User and system CPU time the process used, in seconds.")
		b = strconv.AppendFloat(b, cpu, 'g', -1, 64)
		b = append(b, '\n')
	}
	if rss := p.residentBytes(); rss >= 0 {
		family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.")
		b = strconv.AppendInt(b, rss, 10)
		b = append(b, '\n')
	}
	family("go_goroutines", "gauge", "Goroutines that currently exist.")
	b = strconv.AppendInt(b, int64(runtime.NumGoroutine()), 10)
	return append(b, '\n')
}
