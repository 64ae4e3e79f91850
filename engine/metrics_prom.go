package engine

import (
	"io"
	"strconv"
	"sync"

	"github.com/pinion-net/pinion/internal/loop"
)

// MetricsContentType is the HTTP Content-Type of what WriteMetrics writes:
// the Prometheus text exposition format, version 0.0.4.
const MetricsContentType = "text/plain; version=0.0.4; charset=utf-8"

// promState is WriteMetrics' scratch, reused so that a scrape in steady
// state allocates nothing but what w does.
type promState struct {
	mu    sync.Mutex
	buf   []byte
	snaps []loop.Stats
	le    []string // the histograms' bucket edges as le values, "+Inf" last
}

// les returns the le values of the histogram buckets, formatted once.
func (p *promState) les() []string {
	if p.le == nil {
		var h loop.HistogramSnapshot
		for i := range h.Counts {
			edge := h.UpperBound(i)
			if edge == 0 {
				p.le = append(p.le, "+Inf")
				break
			}
			p.le = append(p.le, strconv.FormatFloat(edge.Seconds(), 'g', -1, 64))
		}
	}
	return p.le
}

// WriteMetrics writes the engine's statistics to w in the Prometheus text
// exposition format (MetricsContentType), as docs/observability.md lists
// them: names prefixed pinion_, base units (seconds, bytes), counters
// ending in _total; per-loop series carry a loop label and no family mixes
// per-loop series with a total. It reads only what the loops published
// (docs/adr/0002-per-loop-stats-publication.md) and never stops or slows a
// loop. Safe from any goroutine; concurrent calls take turns.
func (e *Engine) WriteMetrics(w io.Writer) error {
	p := &e.prom
	p.mu.Lock()
	defer p.mu.Unlock()
	snaps := p.snaps[:0]
	for _, l := range e.loops {
		snaps = append(snaps, l.Stats())
	}
	b := appendLoopMetrics(p.buf[:0], snaps, p.les())
	b = e.appendEngineMetrics(b, p.les())
	p.buf, p.snaps = b, snaps
	_, err := w.Write(b)
	return err
}

// appendLoopMetrics appends every per-loop family: the rows of the loop's
// counter and gauge tables, then the histograms.
func appendLoopMetrics(b []byte, snaps []loop.Stats, les []string) []byte {
	last := ""
	loop.Metrics(func(m loop.Metric) {
		if m.Name == "" {
			return
		}
		typ, suffix := "counter", "_total"
		if m.Gauge() {
			typ, suffix = "gauge", ""
		}
		if m.Name != last {
			b = appendHeader(b, m.Name, suffix, m.Help, typ)
			last = m.Name
		}
		for i := range snaps {
			s := &snaps[i]
			b = appendName(b, m.Name, suffix)
			b = appendLabels(b, s.Loop, m.Label, m.LabelValue, "")
			b = strconv.AppendInt(b, m.Value(s), 10)
			b = append(b, '\n')
		}
	})
	b = appendHeader(b, "io_backend", "", "The loop's I/O backend: 1 for the one it runs (label io: epoll or uring).", "gauge")
	for i := range snaps {
		b = appendName(b, "io_backend", "")
		b = appendLabels(b, snaps[i].Loop, "io", snaps[i].IO, "")
		b = append(b, "1\n"...)
	}
	b = appendHeader(b, "tick_duration", "_seconds", "Duration of the loop's busy ticks, the poll excluded.", "histogram")
	for i := range snaps {
		b = appendHistogram(b, "tick_duration", snaps[i].Loop, &snaps[i].TickTime, les)
	}
	b = appendHeader(b, "callback_duration", "_seconds", "Duration of handler callbacks (open, data, tick) on the loop.", "histogram")
	for i := range snaps {
		b = appendHistogram(b, "callback_duration", snaps[i].Loop, &snaps[i].CallbackTime, les)
	}
	return b
}

// appendEngineMetrics appends the families that belong to the engine as a
// whole: its size, its limits and its offload pool.
func (e *Engine) appendEngineMetrics(b []byte, les []string) []byte {
	gauge := func(name, help string, v int64) {
		b = appendHeader(b, name, "", help, "gauge")
		b = appendName(b, name, "")
		b = append(b, ' ')
		b = strconv.AppendInt(b, v, 10)
		b = append(b, '\n')
	}
	counter := func(name, help string, v uint64) {
		b = appendHeader(b, name, "_total", help, "counter")
		b = appendName(b, name, "_total")
		b = append(b, ' ')
		b = strconv.AppendUint(b, v, 10)
		b = append(b, '\n')
	}
	gauge("loops", "Event loops.", int64(len(e.loops)))
	gauge("draining", "1 once the engine drains (Engine.Drain): it accepts nothing new and is not ready.", boolGauge(e.Draining()))
	gauge("max_connections", "Accepted connections allowed at once over all loops; 0: no bound.", int64(max(e.limit.Max(), 0)))
	if e.proxy != nil {
		counter("proxy_accepted", "Connections whose PROXY protocol header was accepted.", e.proxy.accepted.Load())
		counter("proxy_rejected", "Connections closed for their PROXY protocol header (untrusted, malformed, late or missing).", e.proxy.rejected.Load())
	}
	if e.pool == nil {
		return b
	}
	gauge("offload_stuck_tasks", "Running offload tasks Shutdown stopped waiting for because they ignored their cancelled context.", e.stuck.Load())
	ps := e.pool.Stats()
	gauge("offload_workers", "Offload pool workers.", int64(ps.Workers))
	gauge("offload_busy_workers", "Offload workers running a task now.", ps.Busy)
	gauge("offload_queue_capacity", "Offload tasks that may wait for a worker.", int64(ps.Queue))
	gauge("offload_queue_depth", "Offload tasks waiting for a worker now.", int64(ps.Depth))
	gauge("offload_queue_high_water", "The most offload tasks waiting at once since the start.", ps.HighWater)
	counter("offload_submitted", "Tasks accepted by the offload pool.", ps.Submitted)
	counter("offload_completed", "Tasks the offload pool finished.", ps.Completed)
	counter("offload_full", "Submissions the offload pool refused because its queue was full.", ps.Rejected)
	counter("offload_worker_panics", "Offload jobs that panicked without recovering (tasks of connections recover and count in pinion_offload_panics_total).", ps.Panics)
	b = appendHeader(b, "offload_wait", "_seconds", "Time offload tasks waited in the queue for a worker.", "histogram")
	b = appendHistogram(b, "offload_wait", -1, &ps.QueueWait, les)
	b = appendHeader(b, "offload_run", "_seconds", "Time offload tasks ran on a worker.", "histogram")
	b = appendHistogram(b, "offload_run", -1, &ps.RunTime, les)
	return b
}

func appendHeader(b []byte, name, suffix, help, typ string) []byte {
	b = append(b, "# HELP "...)
	b = appendName(b, name, suffix)
	b = append(b, ' ')
	b = append(b, help...)
	b = append(b, "\n# TYPE "...)
	b = appendName(b, name, suffix)
	b = append(b, ' ')
	b = append(b, typ...)
	return append(b, '\n')
}

func appendName(b []byte, name, suffix string) []byte {
	b = append(b, "pinion_"...)
	b = append(b, name...)
	return append(b, suffix...)
}

// appendLabels appends the label set and the space before the value:
// loop (when id >= 0), then label=value (when label is set), then le
// (when set). No label value here needs escaping.
func appendLabels(b []byte, id int, label, value, le string) []byte {
	sep := byte('{')
	if id >= 0 {
		b = append(b, `{loop="`...)
		b = strconv.AppendInt(b, int64(id), 10)
		b = append(b, '"')
		sep = ','
	}
	if label != "" {
		b = append(b, sep)
		b = append(b, label...)
		b = append(b, `="`...)
		b = append(b, value...)
		b = append(b, '"')
		sep = ','
	}
	if le != "" {
		b = append(b, sep)
		b = append(b, `le="`...)
		b = append(b, le...)
		b = append(b, '"')
		sep = ','
	}
	if sep == ',' {
		b = append(b, '}')
	}
	return append(b, ' ')
}

// appendHistogram appends one histogram's series: cumulative buckets whose
// le (from les, one per bucket) is each bucket's upper edge in seconds
// (edges are exclusive in internal/metrics, inclusive in Prometheus; a
// duration exactly on an edge is counted one bucket up), then _sum and
// _count.
func appendHistogram(b []byte, name string, id int, h *loop.HistogramSnapshot, les []string) []byte {
	var cum uint64
	for i, c := range h.Counts {
		cum += c
		b = appendName(b, name, "_seconds_bucket")
		b = appendLabels(b, id, "", "", les[i])
		b = strconv.AppendUint(b, cum, 10)
		b = append(b, '\n')
	}
	b = appendName(b, name, "_seconds_sum")
	b = appendLabels(b, id, "", "", "")
	b = strconv.AppendFloat(b, h.Sum.Seconds(), 'g', -1, 64)
	b = append(b, '\n')
	b = appendName(b, name, "_seconds_count")
	b = appendLabels(b, id, "", "", "")
	b = strconv.AppendUint(b, cum, 10)
	return append(b, '\n')
}

// boolGauge is a gauge's value of b: 1 or 0.
func boolGauge(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
