package admin

import "github.com/pinion-net/pinion/engine"

// LoopsView returns the /debug/loops snapshot of an engine: per loop every
// counter and gauge under its metric name (close reasons as
// connections_closed.REASON), and tick and callback quantiles in seconds;
// and the offload pool.
func LoopsView(e *engine.Engine) func() any {
	return func() any {
		st := e.Stats()
		loops := make([]map[string]any, 0, len(st.Loops))
		for i := range st.Loops {
			s := &st.Loops[i]
			m := map[string]any{"loop": s.Loop}
			engine.Metrics(func(d engine.Metric) {
				if d.Name == "" {
					return
				}
				k := d.Name
				if d.Label != "" {
					k += "." + d.LabelValue
				}
				m[k] = d.Value(s)
			})
			m["tick_p50_seconds"] = s.TickTime.Quantile(0.5).Seconds()
			m["tick_p99_seconds"] = s.TickTime.Quantile(0.99).Seconds()
			m["callback_p99_seconds"] = s.CallbackTime.Quantile(0.99).Seconds()
			loops = append(loops, m)
		}
		o := st.Offload
		return map[string]any{
			"loops": loops,
			"offload": map[string]any{
				"workers": o.Workers, "busy": o.Busy, "queue": o.Queue, "depth": o.Depth,
				"high_water": o.HighWater, "submitted": o.Submitted, "completed": o.Completed,
				"full": o.Full, "rejected": o.Rejected, "wait_p99_seconds": o.QueueWait.Quantile(0.99).Seconds(),
			},
		}
	}
}
