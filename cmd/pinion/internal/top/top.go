package top

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"time"
)

// Config says what Run shows.
type Config struct {
	Admin    string        // the admin address, HOST:PORT
	Once     bool          // print one frame, without ANSI control codes, and return
	Interval time.Duration // between frames, and between the two scrapes of one; default 1s
}

// Run shows frames on w until ctx ends (or one with Once). Rates are over
// the interval between two scrapes, so the first frame comes after one
// interval.
func Run(ctx context.Context, cfg Config, w io.Writer) error {
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	client := &http.Client{Timeout: 5 * time.Second}
	url := "http://" + cfg.Admin + "/metrics"
	prev, prevAt, err := scrape(ctx, client, url)
	if err != nil {
		return err
	}
	t := time.NewTicker(cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		cur, at, err := scrape(ctx, client, url)
		if err != nil {
			return err
		}
		frame := render(cfg.Admin, prev, cur, at.Sub(prevAt), at)
		if cfg.Once {
			_, err := io.WriteString(w, frame)
			return err
		}
		if _, err := io.WriteString(w, "\x1b[H\x1b[2J"+frame); err != nil {
			return err
		}
		prev, prevAt = cur, at
	}
}

func scrape(ctx context.Context, c *http.Client, url string) (sample, time.Time, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("top: %w", err)
	}
	r, err := c.Do(req)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("top: %w", err)
	}
	defer r.Body.Close()
	if r.StatusCode != http.StatusOK {
		return nil, time.Time{}, fmt.Errorf("top: GET %s: %s", url, r.Status)
	}
	s, err := parse(r.Body)
	return s, time.Now(), err
}

// maxLoopRows is how many loops a frame lists before "... and N more":
// with the header, the offload and total lines the frame stays in 24 rows.
const maxLoopRows = 16

// render formats one frame of at most 80 columns and 24 rows.
func render(admin string, prev, cur sample, dt time.Duration, at time.Time) string {
	var b strings.Builder
	secs := dt.Seconds()
	rate := func(name string, id int, extra string) float64 {
		return max(cur.loop(name, id, extra)-prev.loop(name, id, extra), 0) / secs
	}
	n := cur.loops()
	cpu := (cur["process_cpu_seconds_total"] - prev["process_cpu_seconds_total"]) / secs * 100
	fmt.Fprintf(&b, "pinion top  %s  %d loops  %s\n", admin, n, at.Format("15:04:05"))
	fmt.Fprintf(&b, "CPU %5.1f%%  RSS %s  goroutines %d  conns max %s\n\n",
		cpu, bytesStr(cur["process_resident_memory_bytes"]), int(cur["go_goroutines"]), count(cur["pinion_max_connections"]))
	fmt.Fprintf(&b, "%4s %7s %7s %7s %9s %9s %8s %6s %6s\n",
		"LOOP", "CONNS", "ACC/s", "CLOSE/s", "IN/s", "OUT/s", "TICKp99", "SLOW", "PAUSED")
	var tc, ta, tcl, tin, tout, tslow, tpaused float64
	for id := range n {
		conns := cur.loop("pinion_connections", id, "")
		acc := rate("pinion_connections_accepted_total", id, "")
		var closed float64
		for k, v := range cur {
			if strings.HasPrefix(k, `pinion_connections_closed_total{loop="`+itoa(id)+`",`) {
				closed += max(v-prev[k], 0)
			}
		}
		closed /= secs
		in, out := rate("pinion_received_bytes_total", id, ""), rate("pinion_sent_bytes_total", id, "")
		p99 := quantile(prev, cur, "pinion_tick_duration_seconds", id, 0.99)
		slow := cur.loop("pinion_slow_callbacks_total", id, "")
		paused := cur.loop("pinion_paused_connections", id, `cause="watermark"`) + cur.loop("pinion_paused_connections", id, `cause="offload"`)
		tc, ta, tcl, tin, tout, tslow, tpaused = tc+conns, ta+acc, tcl+closed, tin+in, tout+out, tslow+slow, tpaused+paused
		if id < maxLoopRows {
			fmt.Fprintf(&b, "%4d %7s %7s %7s %9s %9s %8s %6s %6s\n",
				id, count(conns), perSec(acc), perSec(closed), bytesStr(in), bytesStr(out), dur(p99), count(slow), count(paused))
		}
	}
	if n > maxLoopRows {
		fmt.Fprintf(&b, "     ... and %d more loops\n", n-maxLoopRows)
	}
	fmt.Fprintf(&b, "%4s %7s %7s %7s %9s %9s %8s %6s %6s\n\n",
		"all", count(tc), perSec(ta), perSec(tcl), bytesStr(tin), bytesStr(tout), "", count(tslow), count(tpaused))
	if _, ok := cur["pinion_offload_workers"]; ok {
		fmt.Fprintf(&b, "OFFLOAD busy %s/%s  queue %s/%s (high %s)  wait p99 %s  run p99 %s\n",
			count(cur["pinion_offload_busy_workers"]), count(cur["pinion_offload_workers"]),
			count(cur["pinion_offload_queue_depth"]), count(cur["pinion_offload_queue_capacity"]),
			count(cur["pinion_offload_queue_high_water"]),
			dur(quantile(prev, cur, "pinion_offload_wait_seconds", -1, 0.99)),
			dur(quantile(prev, cur, "pinion_offload_run_seconds", -1, 0.99)))
	} else {
		b.WriteString("OFFLOAD none\n")
	}
	return b.String()
}

func itoa(i int) string { return fmt.Sprint(i) }

// count formats a count in at most 7 columns.
func count(v float64) string {
	switch {
	case v >= 1e9:
		return fmt.Sprintf("%.1fG", v/1e9)
	case v >= 1e6:
		return fmt.Sprintf("%.1fM", v/1e6)
	case v >= 1e5:
		return fmt.Sprintf("%.0fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

// perSec formats a rate in at most 7 columns.
func perSec(v float64) string {
	if v < 100 && v != math.Trunc(v) {
		return fmt.Sprintf("%.1f", v)
	}
	return count(v)
}

// bytesStr formats a byte count or rate in at most 9 columns.
func bytesStr(v float64) string {
	switch {
	case v >= 1<<30:
		return fmt.Sprintf("%.1fGiB", v/(1<<30))
	case v >= 1<<20:
		return fmt.Sprintf("%.1fMiB", v/(1<<20))
	case v >= 1<<10:
		return fmt.Sprintf("%.1fKiB", v/(1<<10))
	}
	return fmt.Sprintf("%.0fB", v)
}

// dur formats seconds as a duration in at most 8 columns.
func dur(s float64) string {
	if s <= 0 {
		return "-"
	}
	if math.IsInf(s, 1) {
		return ">8s"
	}
	return time.Duration(s * float64(time.Second)).String()
}
